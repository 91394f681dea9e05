import type {
  PhaseNumber,
  PhaseTransition,
  SessionState,
  TimelineEntry,
} from '../../shared/model.ts';
import { remainingPhases } from './phase-number.ts';
import { loopsOf } from './run.ts';

/**
 * One row per phase change, in the order they were observed. Times are the
 * trustworthy ones of the transitions (mtime or receipt), so an LLM clock in
 * the future cannot reorder or stretch anything.
 */
export function buildTimeline(
  transitions: readonly PhaseTransition[],
  state: SessionState,
  changedAt: number,
): TimelineEntry[] {
  const out: TimelineEntry[] = [];
  const loops = loopsOf(transitions);
  for (let i = 0; i < transitions.length; i++) {
    const t = transitions[i] as PhaseTransition;
    const next = transitions[i + 1];
    let endedAt: number | null = null;
    if (next) endedAt = Math.max(t.at, next.at);
    else if (state !== 'active') endedAt = Math.max(t.at, changedAt);
    out.push({
      phase: t.to,
      phaseNumber: t.phaseNumber,
      startedAt: t.at,
      endedAt,
      durationMs: endedAt === null ? null : endedAt - t.at,
      ...(loops[i] ? { loop: loops[i] } : {}),
    });
  }
  return out;
}

/**
 * Estimated completion: the average duration of the phases this session was
 * seen to go through, times the phases left (the current one included), from
 * the current phase's start. The first observed phase is not a sample when
 * Livestream joined mid-phase (its start is unknown). Null without a sample,
 * without a phase number, or when the session is over.
 */
export function estimateEta(
  transitions: readonly PhaseTransition[],
  phaseNumber: PhaseNumber,
  state: SessionState,
): number | null {
  if (state !== 'active' || transitions.length < 2) return null;
  const remaining = remainingPhases(phaseNumber);
  if (remaining === null) return null;
  let total = 0;
  let samples = 0;
  for (let i = 0; i < transitions.length - 1; i++) {
    const t = transitions[i] as PhaseTransition;
    if (i === 0 && t.from === null) continue;
    const duration = (transitions[i + 1] as PhaseTransition).at - t.at;
    if (duration < 0) continue;
    total += duration;
    samples++;
  }
  if (samples === 0) return null;
  const current = transitions[transitions.length - 1] as PhaseTransition;
  return Math.round(current.at + (total / samples) * (remaining + 1));
}
