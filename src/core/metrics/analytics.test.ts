import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { rng } from '../../../test/helpers/fixtures.ts';
import type { Analytics, TestIteration } from '../../shared/metrics.ts';
import type { PhaseTransition, SessionState } from '../../shared/model.ts';
import {
  combineContributions,
  computeAnalytics,
  DurationTally,
  iterationsToGreen,
  phaseDurations,
  type SessionHistory,
  sessionContribution,
} from './analytics.ts';

/** The figures computed in one pass over whole histories, as before the split. */
function reference(history: readonly SessionHistory[]): Analytics {
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
    for (const [key, v] of [...map].sort(([a], [b]) => a.localeCompare(b)))
      out[key] = Math.round(v.sum / v.n);
    return out;
  };
  const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;
  return {
    sessions: history.length,
    avgPhaseDurationMs: averages(durations),
    tokensPerPhase: averages(tokens),
    avgTestIterationsToGreen: greenN > 0 ? round(greenSum / greenN, 2) : null,
    failureRate: finished > 0 ? round(failed / finished, 4) : null,
  };
}

const PHASES = ['Scout', 'Architect', 'Builder', 'Test', 'Deploy', 'Ärger', 'builder'];
const STATES: SessionState[] = ['active', 'completed', 'failed'];

function randomSession(r: () => number, key: string): SessionHistory {
  const int = (n: number) => Math.floor(r() * n);
  const pick = <T>(xs: readonly T[]) => xs[int(xs.length)] as T;
  const transitions: PhaseTransition[] = [];
  let at = 1_700_000_000_000 + int(1e6);
  for (let i = 0, n = int(8); i < n; i++) {
    // Same instants, going back in time, and fractional milliseconds all occur.
    at += pick([0, -5, 1, 7.25, 1_000, 60_000 + int(1e5)]);
    transitions.push({
      sessionKey: key,
      from: transitions.at(-1)?.to ?? null,
      to: pick(PHASES),
      at,
      phaseNumber: `${i}/7`,
      status: 'in_progress',
    });
  }
  let tokensByPhase: SessionHistory['tokensByPhase'] = null;
  if (r() < 0.7) {
    tokensByPhase = {};
    for (let i = 0, n = int(4); i < n; i++)
      tokensByPhase[pick(PHASES)] = { input: int(50_000), output: r() < 0.2 ? 0.5 : int(9_000) };
  }
  const testIterations: TestIteration[] = [];
  for (let i = 0, n = int(5); i < n; i++) {
    testIterations.push({
      iteration: int(9),
      passed: r() < 0.2 ? null : int(20),
      failed: int(3),
      skipped: null,
      total: null,
      durationMs: null,
      source: 'test-results.json',
      updatedAt: at,
    });
  }
  return { state: pick(STATES), transitions, tokensByPhase, testIterations };
}

describe('analytics split into per-session contributions', () => {
  test('combined contributions equal the one-pass figures on varied random histories', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const r = rng(seed);
      const history = Array.from({ length: Math.floor(r() * 12) }, (_, i) =>
        randomSession(r, `s${i}`),
      );
      const expected = reference(history);
      assert.deepEqual(computeAnalytics(history), expected, `seed ${seed}`);
      assert.deepEqual(
        combineContributions(history.map(sessionContribution)),
        expected,
        `seed ${seed}`,
      );
    }
  });

  test('contributions computed at different times, kept and combined, give the same figures', () => {
    const r = rng(42);
    const history = Array.from({ length: 40 }, (_, i) => randomSession(r, `s${i}`));
    const kept = new Map(history.map((h, i) => [i, sessionContribution(h)]));
    // One session changes: only its contribution is recomputed.
    const changed = randomSession(r, 's7');
    history[7] = changed;
    kept.set(7, sessionContribution(changed));
    assert.deepEqual(combineContributions(kept.values()), reference(history));
    // One session leaves.
    history.splice(3, 1);
    kept.delete(3);
    assert.deepEqual(combineContributions(kept.values()), reference(history));
  });

  test('a contribution holds what the session adds', () => {
    const c = sessionContribution({
      state: 'failed',
      transitions: [
        { sessionKey: 'k', from: null, to: 'Scout', at: 0, phaseNumber: '1/3', status: 'x' },
        { sessionKey: 'k', from: 'Scout', to: 'Build', at: 100, phaseNumber: '2/3', status: 'x' },
        { sessionKey: 'k', from: 'Build', to: 'Test', at: 350, phaseNumber: '3/3', status: 'x' },
      ],
      tokensByPhase: { Scout: { input: 10, output: 5 } },
      testIterations: [
        { iteration: 2, passed: 3, failed: 0 } as TestIteration,
        { iteration: 1, passed: 1, failed: 2 } as TestIteration,
      ],
    });
    assert.equal(c.state, 'failed');
    assert.deepEqual(
      [...c.phaseDurations],
      [
        ['Scout', 100],
        ['Build', 250],
      ],
    );
    assert.deepEqual([...(c.tokensByPhase ?? [])], [['Scout', 15]]);
    assert.equal(c.iterationsToGreen, 2);
    assert.equal(
      sessionContribution({
        state: 'active',
        transitions: [],
        tokensByPhase: null,
        testIterations: [],
      }).tokensByPhase,
      null,
    );
  });

  test('no contributions: nothing to average', () => {
    assert.deepEqual(combineContributions([]), {
      sessions: 0,
      avgPhaseDurationMs: {},
      tokensPerPhase: {},
      avgTestIterationsToGreen: null,
      failureRate: null,
    });
  });
});

/** Durations between consecutive transitions of the history sorted by time (stable), pair by pair. */
function pairwise(transitions: readonly PhaseTransition[]): Map<string, number> {
  const sorted = [...transitions].sort((a, b) => a.at - b.at);
  const out = new Map<string, number>();
  for (let i = 0; i + 1 < sorted.length; i++) {
    const t = sorted[i] as PhaseTransition;
    const ms = (sorted[i + 1] as PhaseTransition).at - t.at;
    if (ms > 0) out.set(t.to, (out.get(t.to) ?? 0) + ms);
  }
  return out;
}

describe('DurationTally', () => {
  test('extended chunk by chunk, it equals the durations of the whole history; an earlier transition is refused', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const r = rng(seed);
      const int = (n: number) => Math.floor(r() * n);
      const all: PhaseTransition[] = [];
      let tally = new DurationTally();
      let at = 1_700_000_000_000;
      for (let step = 0; step < 12; step++) {
        const chunk: PhaseTransition[] = [];
        for (let i = 0, n = int(5); i < n; i++) {
          // Same instants, fractions, and now and then a time before the last one.
          at += [0, 0.5, 3, 1_000, 60_000, -2_000][int(6)] as number;
          chunk.push({
            sessionKey: 'k',
            from: null,
            to: PHASES[int(PHASES.length)] as string,
            at,
            phaseNumber: null,
            status: 'in_progress',
          });
        }
        const before = new Map(tally.durations);
        const lastAt = tally.lastAt;
        const earlier = lastAt !== null && chunk.some((t) => t.at < lastAt);
        all.push(...chunk);
        if (tally.extend(chunk)) {
          assert.ok(!earlier, `seed ${seed}: took in a transition before its last`);
        } else {
          assert.ok(earlier, `seed ${seed}: refused a chunk in order`);
          assert.deepEqual(tally.durations, before, `seed ${seed}: changed when refusing`);
          // What a caller does then: the whole history again.
          tally = new DurationTally();
          assert.ok(tally.extend(all));
        }
        assert.deepEqual(
          [...tally.durations].sort(),
          [...pairwise(all)].sort(),
          `seed ${seed}, step ${step}`,
        );
        assert.deepEqual([...phaseDurations(all)].sort(), [...pairwise(all)].sort());
      }
    }
  });

  test('of transitions at the same time, the last one given is the one that lasts', () => {
    const t = (to: string, at: number): PhaseTransition => ({
      sessionKey: 'k',
      from: null,
      to,
      at,
      phaseNumber: null,
      status: 'in_progress',
    });
    const tally = new DurationTally();
    assert.equal(tally.lastAt, null);
    assert.ok(tally.extend([t('Scout', 0), t('Builder', 100)]));
    assert.ok(tally.extend([t('Test', 100), t('Deploy', 400)]));
    assert.deepEqual(
      [...tally.durations],
      [
        ['Scout', 100],
        ['Test', 300],
      ],
    );
    assert.equal(tally.lastAt, 400);
    assert.equal(tally.extend([t('Docs', 399)]), false);
    assert.ok(tally.extend([]));
  });
});
