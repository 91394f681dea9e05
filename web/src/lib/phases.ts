import type { SessionStatus, TimelineEntry } from '../../../src/shared/model.ts';

/** The canonical workflow order (formats.md §1). */
export const CANONICAL_PHASES: readonly string[] = [
  'Codebase Analysis',
  'Scout',
  'Architect',
  'Parallel Build Planning',
  'Builder',
  'Integration Pre-Check',
  'Test',
  'Screenshot',
  'Documentation',
  'Deploy',
  'Feedback',
  'GitHub Integration',
];

/** Names other writers use for canonical phases. */
const ALIASES: Record<string, string> = {
  tester: 'Test',
  'test loop': 'Test',
  testing: 'Test',
  deployer: 'Deploy',
  deployment: 'Deploy',
  build: 'Builder',
  'integration precheck': 'Integration Pre-Check',
  'integration pre check': 'Integration Pre-Check',
};

const CANONICAL_BY_KEY = new Map(CANONICAL_PHASES.map((p) => [p.toLowerCase(), p]));

/** Pseudo-phases some writers use once the work is over; they are not steps. */
const TERMINAL = new Set(['complete', 'completed', 'done', 'finished', 'failed', '']);

/** Maps "scout", "Tester", "Test Loop" to their canonical name; unknown names are kept verbatim. */
export function canonicalPhase(name: string): string {
  const key = name
    .trim()
    .toLowerCase()
    .replace(/[_\s]+/g, ' ');
  return CANONICAL_BY_KEY.get(key) ?? ALIASES[key] ?? name.trim();
}

export type StepState = 'completed' | 'current' | 'failed' | 'pending' | 'skipped';

export interface Step {
  name: string;
  state: StepState;
  /** "4.5" when the producer numbered it. */
  number: string | null;
  /** True when the phase is not one of the canonical ones. */
  extra: boolean;
}

/** The order phases were observed in: completed list, timeline, then the current one. */
function observedOrder(status: SessionStatus, timeline: readonly TimelineEntry[]): string[] {
  const seen: string[] = [];
  const add = (name: string) => {
    const c = canonicalPhase(name);
    if (!TERMINAL.has(c.toLowerCase()) && !seen.includes(c)) seen.push(c);
  };
  for (const p of status.phasesCompleted) add(p);
  for (const t of timeline) add(t.phase);
  add(status.currentPhase);
  return seen;
}

/**
 * Merges observed phases into the canonical order: an unknown phase is
 * inserted right after the phase observed before it, so "Test Loop 2" or
 * "Security Review" land where they happened.
 */
export function workflowOrder(observed: readonly string[]): string[] {
  const order = [...CANONICAL_PHASES];
  let previous: string | null = null;
  for (const name of observed) {
    if (!order.includes(name)) {
      const at = previous === null ? 0 : order.indexOf(previous) + 1;
      order.splice(at, 0, name);
    }
    previous = name;
  }
  return order;
}

function phaseNumberOf(raw: string | null): string | null {
  if (raw === null) return null;
  const n = raw.split('/')[0]?.trim() ?? '';
  return n === '' || n === '?' ? null : n;
}

/** The stepper: every phase of the workflow with its state. */
export function buildSteps(status: SessionStatus, timeline: readonly TimelineEntry[]): Step[] {
  const observed = observedOrder(status, timeline);
  const current = canonicalPhase(status.currentPhase);
  const completed = new Set(status.phasesCompleted.map(canonicalPhase));
  const numbers = new Map<string, string>();
  for (const t of timeline) {
    const n = phaseNumberOf(t.phaseNumber);
    if (n !== null) numbers.set(canonicalPhase(t.phase), n);
  }
  const currentNumber = phaseNumberOf(status.phaseNumber.raw);
  if (currentNumber !== null) numbers.set(current, currentNumber);
  const seen = new Set(observed);
  const finished = status.state !== 'active';
  const order = workflowOrder(observed);
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
    };
  });
}

function timelineEnded(timeline: readonly TimelineEntry[], name: string): boolean {
  return timeline.some((t) => canonicalPhase(t.phase) === name && t.endedAt !== null);
}
