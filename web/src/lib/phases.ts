import type { SessionStatus, TimelineEntry } from '../../../src/shared/model.ts';
import {
  CANONICAL_PHASES,
  canonicalPhase,
  isTerminalPhase,
  templatePhases,
} from '../../../src/shared/phases.ts';

export type StepState = 'completed' | 'current' | 'failed' | 'pending' | 'skipped';

export interface Step {
  name: string;
  state: StepState;
  /** "4.5" when the producer numbered it. */
  number: string | null;
  /** True when the phase is not one of the canonical ones. */
  extra: boolean;
  /** Times the build came back to this phase in a loop. */
  loops: number;
}

/** The order phases were observed in: completed list, timeline, then the current one. */
function observedOrder(status: SessionStatus, timeline: readonly TimelineEntry[]): string[] {
  const seen: string[] = [];
  const add = (name: string) => {
    const c = canonicalPhase(name);
    if (!isTerminalPhase(c) && !seen.includes(c)) seen.push(c);
  };
  for (const p of status.phasesCompleted) add(p);
  for (const t of timeline) add(t.phase);
  add(status.currentPhase);
  return seen;
}

function phaseNumberOf(raw: string | null): string | null {
  if (raw === null) return null;
  const n = raw.split('/')[0]?.trim() ?? '';
  return n === '' || n === '?' ? null : n;
}

/** The stepper: every phase of this build's template version with its state. */
export function buildSteps(status: SessionStatus, timeline: readonly TimelineEntry[]): Step[] {
  const observed = observedOrder(status, timeline);
  const current = canonicalPhase(status.currentPhase);
  const completed = new Set(status.phasesCompleted.map(canonicalPhase));
  const numbers = new Map<string, string>();
  const loops = new Map<string, number>();
  for (const t of timeline) {
    const name = canonicalPhase(t.phase);
    const n = phaseNumberOf(t.phaseNumber);
    if (n !== null) numbers.set(name, n);
    if ((t.loop ?? 0) > 0) loops.set(name, (loops.get(name) ?? 0) + 1);
  }
  const currentNumber = phaseNumberOf(status.phaseNumber.raw);
  if (currentNumber !== null) numbers.set(current, currentNumber);
  const seen = new Set(observed);
  const finished = status.state !== 'active';
  const order = templatePhases(status.template ?? 'cf-github', observed);
  // Phases before the furthest one observed that never ran were skipped, not pending.
  const furthest = Math.max(-1, ...observed.map((name) => order.indexOf(name)));
  return order.map((name, index) => {
    let state: StepState;
    if (name === current) {
      if (status.state === 'failed') state = 'failed';
      else state = status.state === 'completed' ? 'completed' : 'current';
    } else if (completed.has(name) || (seen.has(name) && timelineEnded(timeline, name))) {
      state = 'completed';
    } else state = finished || index < furthest ? 'skipped' : 'pending';
    return {
      name,
      state,
      number: numbers.get(name) ?? null,
      extra: !CANONICAL_PHASES.includes(name),
      loops: loops.get(name) ?? 0,
    };
  });
}

function timelineEnded(timeline: readonly TimelineEntry[], name: string): boolean {
  return timeline.some((t) => canonicalPhase(t.phase) === name && t.endedAt !== null);
}
