import type { PhaseNumber } from '../../shared/model.ts';

const NUMBER = /^\d+(?:\.\d+)?$/;

/**
 * Parses `phase_number` as producers write it: "4/7", "4.5/8", "?/7", "5",
 * or a bare number. Never rounds: fractional phases are real.
 */
export function parsePhaseNumber(value: unknown): PhaseNumber {
  if (typeof value === 'number') {
    const current = Number.isFinite(value) && value >= 0 ? value : null;
    return { raw: String(value), current, total: null };
  }
  if (typeof value !== 'string') return { raw: null, current: null, total: null };
  const raw = value;
  const text = value.trim();
  if (text.length === 0) return { raw, current: null, total: null };
  const slash = text.indexOf('/');
  const left = (slash < 0 ? text : text.slice(0, slash)).trim();
  const right = slash < 0 ? '' : text.slice(slash + 1).trim();
  const current = NUMBER.test(left) ? Number(left) : null;
  const totalValue = NUMBER.test(right) ? Number(right) : null;
  const total = totalValue !== null && totalValue > 0 ? totalValue : null;
  return { raw, current, total };
}

/** How far along the build is, 0..100 with one decimal; null when unknown. */
export function progressFromPhase(phase: PhaseNumber, completed: boolean): number | null {
  if (completed) return 100;
  if (phase.current === null || phase.total === null) return null;
  return clampPercent((phase.current / phase.total) * 100);
}

export function clampPercent(value: number): number | null {
  if (!Number.isFinite(value)) return null;
  return Math.round(Math.min(100, Math.max(0, value)) * 10) / 10;
}

/** Whole phases still to run after the current one ("4.5/8" → 4, "4/7" → 3). */
export function remainingPhases(phase: PhaseNumber): number | null {
  if (phase.current === null || phase.total === null) return null;
  return Math.max(0, Math.ceil(phase.total - phase.current));
}
