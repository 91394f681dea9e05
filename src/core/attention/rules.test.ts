import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SessionFacts } from './facts.ts';
import { alertId, evaluate, spendSince } from './rules.ts';
import { DEFAULT_THRESHOLDS, parseAttentionConfig } from './thresholds.ts';

const MIN = 60_000;
const T0 = 1_700_000_000_000;

function facts(over: Partial<SessionFacts> = {}): SessionFacts {
  return {
    id: 'weather-app',
    state: 'active',
    status: 'in_progress',
    phase: 'Builder',
    previousPhase: 'Architect',
    phaseStartedAt: T0,
    runStartedAt: T0 - 10 * MIN,
    changedAt: T0,
    lastActivityAt: T0,
    usualPhaseMs: 4 * MIN,
    tests: [],
    statuses: [],
    tokens: [],
    costUsd: null,
    agent: null,
    ...over,
  };
}

const kinds = (f: SessionFacts, now: number) =>
  evaluate(f, DEFAULT_THRESHOLDS, now).findings.map((x) => x.kind);

describe('stalled', () => {
  it('is judged against how long the phase usually takes', () => {
    // Usual 4 min × 3 = 12 min; active writes keep the producer alive.
    const f = facts({ lastActivityAt: T0 + 11 * MIN });
    assert.deepEqual(kinds(f, T0 + 11 * MIN), []);
    assert.equal(evaluate(f, DEFAULT_THRESHOLDS, T0 + 11 * MIN).wakeAt, T0 + 12 * MIN);
    const found = evaluate(f, DEFAULT_THRESHOLDS, T0 + 12 * MIN).findings;
    assert.deepEqual(
      found.map((x) => x.kind),
      ['stalled'],
    );
    assert.equal(found[0]?.since, T0);
    assert.match(
      found[0]?.reason ?? '',
      /No progress in Builder for over 12 min; it usually takes 4 min/,
    );
  });

  it('a long usual phase waits longer; no history uses the default limit', () => {
    const long = facts({ usualPhaseMs: 30 * MIN, lastActivityAt: T0 + 60 * MIN });
    assert.deepEqual(kinds(long, T0 + 60 * MIN), []);
    const none = facts({ usualPhaseMs: null, lastActivityAt: T0 + 20 * MIN });
    assert.deepEqual(kinds(none, T0 + 20 * MIN), ['stalled']);
  });

  it('a new test iteration is progress', () => {
    const f = facts({
      lastActivityAt: T0 + 13 * MIN,
      tests: [{ iteration: 1, total: 10, failed: 2, updatedAt: T0 + 10 * MIN }],
    });
    assert.deepEqual(kinds(f, T0 + 13 * MIN), []);
  });
});

describe('producer gone', () => {
  it('fires after the quiet time and hides the stall', () => {
    const f = facts({ usualPhaseMs: 1000 });
    const found = evaluate(f, DEFAULT_THRESHOLDS, T0 + 10 * MIN).findings;
    assert.deepEqual(
      found.map((x) => x.kind),
      ['producer_gone'],
    );
    assert.equal(found[0]?.severity, 'critical');
    assert.equal(found[0]?.since, T0);
  });
});

describe('loops and spend', () => {
  it('same tests failing across iterations, with spend since the last phase', () => {
    const tests = [1, 2, 3, 4].map((i) => ({
      iteration: i,
      total: 24,
      failed: 3,
      updatedAt: T0 + i * MIN,
    }));
    const tokens = [
      { at: T0 - 1, total: 10_000 },
      { at: T0 + 4 * MIN, total: 71_200 },
    ];
    const f = facts({
      phase: 'Test',
      previousPhase: 'Builder',
      tests,
      tokens,
      costUsd: 3.1 * (71_200 / 61_200),
      lastActivityAt: T0 + 4 * MIN,
    });
    const found = evaluate(f, DEFAULT_THRESHOLDS, T0 + 4 * MIN).findings;
    const loop = found.find((x) => x.kind === 'test_loop');
    assert.equal(
      loop?.reason,
      'Tests failing 4 iterations in a row (3 of 24 failing now), 61,200 tokens ($3.10) spent since Builder',
    );
    assert.equal(loop?.since, T0 + MIN);
    assert.equal(loop?.episode, '1');
    // A passing iteration ends the run.
    const green = facts({
      tests: [...tests, { iteration: 5, total: 24, failed: 0, updatedAt: T0 + 5 * MIN }],
    });
    assert.ok(!kinds(green, T0 + 5 * MIN).includes('test_loop'));
  });

  it('self-healing repeating in one phase', () => {
    const statuses = [
      'testing',
      'self-healing',
      'testing',
      'self-healing',
      'testing',
      'self-healing',
    ].map((status, i) => ({ status, at: T0 + i }));
    assert.ok(kinds(facts({ statuses }), T0 + 10).includes('healing_loop'));
    assert.ok(!kinds(facts({ statuses: statuses.slice(0, 4) }), T0 + 10).includes('healing_loop'));
  });

  it('tokens since the last progress over the threshold', () => {
    const tokens = [
      { at: T0 - 5, total: 500_000 },
      { at: T0 + 1000, total: 599_999 },
    ];
    assert.ok(!kinds(facts({ tokens }), T0 + 2000).includes('runaway_spend'));
    const more = [...tokens, { at: T0 + 2000, total: 600_000 }];
    const found = evaluate(facts({ tokens: more }), DEFAULT_THRESHOLDS, T0 + 2000).findings;
    assert.equal(
      found.find((x) => x.kind === 'runaway_spend')?.reason,
      '100,000 tokens spent since Architect without a phase or test change',
    );
  });

  it('cost alone can trip it', () => {
    const tokens = [{ at: T0 + 1, total: 1000 }];
    assert.ok(kinds(facts({ tokens, costUsd: 6 }), T0 + 2).includes('runaway_spend'));
    assert.deepEqual(spendSince({ tokens, costUsd: 6 }, T0), { tokens: 1000, usd: 6 });
  });
});

describe('agents', () => {
  it('waiting for the user and the same tool call repeated', () => {
    const call = { tool: 'Bash', input: 'npm test' };
    const agent = {
      waiting: { kind: 'permission' as const, since: T0 + 5, detail: 'Bash: rm -rf dist' },
      toolCalls: [0, 1, 2, 3, 4].map((i) => ({ ...call, at: T0 + i })),
    };
    const found = evaluate(facts({ agent }), DEFAULT_THRESHOLDS, T0 + 10).findings;
    assert.equal(
      found.find((x) => x.kind === 'waiting_for_user')?.reason,
      'Waiting for a permission prompt: Bash: rm -rf dist',
    );
    assert.equal(found.find((x) => x.kind === 'tool_loop')?.since, T0);
    const varied = {
      waiting: null,
      toolCalls: [...agent.toolCalls, { tool: 'Read', input: 'a', at: T0 + 9 }],
    };
    assert.deepEqual(kinds(facts({ agent: varied }), T0 + 10), []);
  });
});

describe('finished', () => {
  it('failed is critical; completed is info unless turned off', () => {
    const failed = evaluate(facts({ state: 'failed', status: 'failed' }), DEFAULT_THRESHOLDS, T0);
    assert.equal(failed.findings[0]?.severity, 'critical');
    assert.equal(failed.wakeAt, null);
    assert.deepEqual(kinds(facts({ state: 'completed' }), T0), ['completed']);
    const quiet = { ...DEFAULT_THRESHOLDS, notifyCompleted: false };
    assert.deepEqual(evaluate(facts({ state: 'completed' }), quiet, T0).findings, []);
  });

  it('ids are stable per episode', () => {
    const f = facts({ state: 'failed' });
    const a = evaluate(f, DEFAULT_THRESHOLDS, T0).findings[0];
    const b = evaluate(f, DEFAULT_THRESHOLDS, T0 + 999_999).findings[0];
    assert.ok(a && b);
    assert.equal(alertId('x', a), alertId('x', b));
  });
});

describe('config', () => {
  it('merges a project file over the defaults and reports bad files', () => {
    const ok = parseAttentionConfig('{"attention":{"spendTokens":5000,"stallFactor":2}}');
    assert.equal(ok.error, null);
    assert.equal(ok.thresholds.spendTokens, 5000);
    assert.equal(ok.thresholds.producerGoneMs, DEFAULT_THRESHOLDS.producerGoneMs);
    const bad = parseAttentionConfig('{"attention":{"spendTokens":-1}}');
    assert.match(bad.error ?? '', /attention\.spendTokens/);
    assert.deepEqual(bad.thresholds, { ...DEFAULT_THRESHOLDS });
    assert.match(parseAttentionConfig('{').error ?? '', /not JSON/);
    assert.match(
      parseAttentionConfig('{"attention":{"nope":1}}').error ?? '',
      /nope|Unrecognized/i,
    );
  });
});
