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

/** Time spent in each phase: from its transition to the next one (the current phase is open). */
export function phaseDurations(transitions: readonly PhaseTransition[]): Map<string, number> {
  const sorted = [...transitions].sort((a, b) => a.at - b.at);
  const out = new Map<string, number>();
  for (let i = 0; i + 1 < sorted.length; i++) {
    const t = sorted[i] as PhaseTransition;
    const next = sorted[i + 1] as PhaseTransition;
    const ms = next.at - t.at;
    if (ms <= 0) continue;
    out.set(t.to, (out.get(t.to) ?? 0) + ms);
  }
  return out;
}

/** The iteration at which the tests first passed with no failure; null when they never did. */
export function iterationsToGreen(iterations: readonly TestIteration[]): number | null {
  const sorted = [...iterations].sort((a, b) => a.iteration - b.iteration);
  for (const it of sorted) {
    if (it.failed === 0 && (it.passed ?? 0) > 0) return it.iteration;
  }
  return null;
}

/**
 * Cross-session figures. Averages are per session that has the figure:
 * a phase's average duration over the sessions that left it, tokens per
 * phase over the sessions with measured tokens in it, iterations to green
 * over the sessions whose tests went green; the failure rate is over
 * finished sessions. Null when no session has the figure.
 */
export function computeAnalytics(history: readonly SessionHistory[]): Analytics {
  const durations = new Map<string, { sum: number; n: number }>();
  const tokens = new Map<string, { sum: number; n: number }>();
  let greenSum = 0;
  let greenN = 0;
  let failed = 0;
  let finished = 0;
  const bump = (map: Map<string, { sum: number; n: number }>, key: string, value: number) => {
    const v = map.get(key) ?? { sum: 0, n: 0 };
    map.set(key, { sum: v.sum + value, n: v.n + 1 });
  };
  for (const s of history) {
    for (const [phase, ms] of phaseDurations(s.transitions)) bump(durations, phase, ms);
    if (s.tokensByPhase) {
      for (const [phase, t] of Object.entries(s.tokensByPhase))
        bump(tokens, phase, t.input + t.output);
    }
    const green = iterationsToGreen(s.testIterations);
    if (green !== null) {
      greenSum += green;
      greenN++;
    }
    if (s.state !== 'active') finished++;
    if (s.state === 'failed') failed++;
  }
  const averages = (map: Map<string, { sum: number; n: number }>) => {
    const out: Record<string, number> = {};
    for (const [key, v] of [...map].sort(([a], [b]) => a.localeCompare(b))) {
      out[key] = Math.round(v.sum / v.n);
    }
    return out;
  };
  return {
    sessions: history.length,
    avgPhaseDurationMs: averages(durations),
    tokensPerPhase: averages(tokens),
    avgTestIterationsToGreen: greenN > 0 ? round(greenSum / greenN, 2) : null,
    failureRate: finished > 0 ? round(failed / finished, 4) : null,
  };
}
