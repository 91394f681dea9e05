import type { Analytics, TestIteration } from '../../shared/metrics.ts';
import type { PhaseTransition, SessionState } from '../../shared/model.ts';

/** What the analytics need to know of one stored session. */
export interface SessionHistory {
  state: SessionState;
  transitions: readonly PhaseTransition[];
  /** Measured tokens by phase; null when the session has no token figures. */
  tokensByPhase: Record<string, { input: number; output: number }> | null;
  testIterations: readonly TestIteration[];
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/**
 * Time spent in each phase over a history taken in time order: from each
 * transition to the next (the current phase is open), so the last transition
 * seen matters to the ones that come after it. `extend` adds later
 * transitions without going over the earlier ones again.
 */
export class DurationTally {
  readonly #durations = new Map<string, number>();
  #lastAt = 0;
  #lastTo: string | null = null;

  /** Milliseconds spent in each phase the history left. */
  get durations(): ReadonlyMap<string, number> {
    return this.#durations;
  }

  /** The time of the last transition taken in; null before any. */
  get lastAt(): number | null {
    return this.#lastTo === null ? null : this.#lastAt;
  }

  /**
   * Takes in transitions that come after the ones already in: in time order,
   * equal times in the order given. False, changing nothing, when one is
   * earlier than the last one taken in: only a tally of the whole history
   * again is right then.
   */
  extend(later: readonly PhaseTransition[]): boolean {
    let list = later;
    for (let i = 1; i < later.length; i++) {
      if ((later[i] as PhaseTransition).at < (later[i - 1] as PhaseTransition).at) {
        list = [...later].sort((a, b) => a.at - b.at);
        break;
      }
    }
    const first = list[0];
    if (!first) return true;
    if (this.#lastTo !== null && first.at < this.#lastAt) return false;
    for (const t of list) {
      if (this.#lastTo !== null) {
        const ms = t.at - this.#lastAt;
        if (ms > 0)
          this.#durations.set(this.#lastTo, (this.#durations.get(this.#lastTo) ?? 0) + ms);
      }
      this.#lastAt = t.at;
      this.#lastTo = t.to;
    }
    return true;
  }
}

/** Time spent in each phase: from its transition to the next (the current phase is open). */
export function phaseDurations(transitions: readonly PhaseTransition[]): Map<string, number> {
  const tally = new DurationTally();
  tally.extend(transitions);
  return new Map(tally.durations);
}

/** The iteration at which the tests first passed with no failure; null when they never did. */
export function iterationsToGreen(iterations: readonly TestIteration[]): number | null {
  const sorted = [...iterations].sort((a, b) => a.iteration - b.iteration);
  for (const it of sorted) {
    if (it.verdict === 'failed') continue;
    if (it.verdict === 'passed' || (it.failed === 0 && (it.passed ?? 0) > 0)) return it.iteration;
  }
  return null;
}

/** What one session adds to the cross-session figures; see `sessionContribution`. */
export interface SessionContribution {
  state: SessionState;
  /** Milliseconds spent in each phase the session left. */
  phaseDurations: ReadonlyMap<string, number>;
  /** Measured tokens (input + output) by phase; null when the session has no token figures. */
  tokensByPhase: ReadonlyMap<string, number> | null;
  /** See `iterationsToGreen`. */
  iterationsToGreen: number | null;
}

/** One session's share of the analytics, so a caller can keep it and recompute only what changed. */
export function sessionContribution(h: SessionHistory): SessionContribution {
  let tokensByPhase: Map<string, number> | null = null;
  if (h.tokensByPhase) {
    tokensByPhase = new Map();
    for (const [phase, t] of Object.entries(h.tokensByPhase))
      tokensByPhase.set(phase, t.input + t.output);
  }
  return {
    state: h.state,
    phaseDurations: phaseDurations(h.transitions),
    tokensByPhase,
    iterationsToGreen: iterationsToGreen(h.testIterations),
  };
}

/**
 * Cross-session figures from the sessions' contributions. Averages are per
 * session that has the figure: a phase's average duration over the sessions
 * that left it, tokens per phase over the sessions with measured tokens in
 * it, iterations to green over the sessions whose tests went green; the
 * failure rate is over finished sessions. Null when no session has the figure.
 */
export function combineContributions(contributions: Iterable<SessionContribution>): Analytics {
  const durations = new Map<string, { sum: number; n: number }>();
  const tokens = new Map<string, { sum: number; n: number }>();
  let sessions = 0;
  let greenSum = 0;
  let greenN = 0;
  let failed = 0;
  let finished = 0;
  const bump = (map: Map<string, { sum: number; n: number }>, key: string, value: number) => {
    const v = map.get(key);
    if (v) {
      v.sum += value;
      v.n++;
    } else map.set(key, { sum: value, n: 1 });
  };
  for (const c of contributions) {
    sessions++;
    for (const [phase, ms] of c.phaseDurations) bump(durations, phase, ms);
    if (c.tokensByPhase) for (const [phase, t] of c.tokensByPhase) bump(tokens, phase, t);
    if (c.iterationsToGreen !== null) {
      greenSum += c.iterationsToGreen;
      greenN++;
    }
    if (c.state !== 'active') finished++;
    if (c.state === 'failed') failed++;
  }
  const averages = (map: Map<string, { sum: number; n: number }>) => {
    const out: Record<string, number> = {};
    for (const [key, v] of [...map].sort(([a], [b]) => a.localeCompare(b))) {
      out[key] = Math.round(v.sum / v.n);
    }
    return out;
  };
  return {
    sessions,
    avgPhaseDurationMs: averages(durations),
    tokensPerPhase: averages(tokens),
    avgTestIterationsToGreen: greenN > 0 ? round(greenSum / greenN, 2) : null,
    failureRate: finished > 0 ? round(failed / finished, 4) : null,
  };
}

/** Cross-session figures over whole histories (see `combineContributions`). */
export function computeAnalytics(history: readonly SessionHistory[]): Analytics {
  return combineContributions(history.map(sessionContribution));
}
