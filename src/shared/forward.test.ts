import assert from 'node:assert/strict';
import { describe, it, test } from 'node:test';
import {
  FORWARD_EVENT_DEPTH,
  forwardedEvent,
  HOST_NAME,
  hostOfPath,
  MAX_FORWARD_PLAN_TEXT,
  safeHostName,
} from './forward.ts';
import { jsonValueTooDeep, MAX_JSON_DEPTH } from './json-depth.ts';

describe('machine names', () => {
  it('makes any hostname a valid HOST_NAME', () => {
    for (const raw of ['build-01.local', 'Mac Book’s Pro', '..hidden', '', 'x'.repeat(80)]) {
      const name = safeHostName(raw);
      assert.match(name, HOST_NAME, raw);
    }
    assert.equal(safeHostName('build-01.local'), 'build-01.local');
    assert.equal(safeHostName('Mac Book'), 'Mac-Book');
    assert.equal(safeHostName(''), 'machine');
  });

  it('reads the machine from a forwarded path, not from a local one', () => {
    assert.equal(hostOfPath('/@ci-1/home/me/weather-app'), 'ci-1');
    assert.equal(hostOfPath('/home/me/weather-app'), null);
    assert.equal(hostOfPath('/@bad host/x'), null);
    assert.equal(hostOfPath(null), null);
  });
});

const plan = (over: Record<string, unknown> = {}) => ({
  source: 'plans',
  event: {
    type: 'plan',
    input: {
      id: 'DEMO',
      path: '/home/ci/proj/work-space/plans/DEMO',
      group: null,
      planFile: 'PLAN_DEMO.md',
      planText: '# PLAN: Demo\n',
      planMtimeMs: 1,
      parallelText: null,
      parallelMtimeMs: null,
      files: [{ dir: 'execution', name: 'EXECUTION_TASK_DEMO_11_01.md', mtimeMs: 2 }],
      readAt: 3,
      ...over,
    },
  },
});

const response = (over: Record<string, unknown> = {}) => ({
  source: 'agents',
  event: {
    kind: 'event',
    file: '/home/ci/.claude/projects/p/s.jsonl',
    event: {
      agent: 'claude',
      sessionId: 's',
      agentId: null,
      at: 1,
      source: 'transcript',
      type: 'response',
      key: 'msg:req',
      model: 'claude-sonnet-4-5',
      usage: { input: 1, output: 2, cacheRead: 0, cacheWrite5m: 0, cacheWrite1h: 0 },
      stopReason: 'end_turn',
      ...over,
    },
  },
});

test('plan events: a folder read, gone and synced pass; an over-long PLAN text or a bad file does not', () => {
  assert.ok(forwardedEvent.safeParse(plan()).success);
  assert.ok(
    forwardedEvent.safeParse({ source: 'plans', event: { type: 'gone', id: 'D' } }).success,
  );
  assert.ok(forwardedEvent.safeParse({ source: 'plans', event: { type: 'synced' } }).success);
  assert.ok(
    !forwardedEvent.safeParse(plan({ planText: 'x'.repeat(MAX_FORWARD_PLAN_TEXT + 1) })).success,
  );
  assert.ok(
    !forwardedEvent.safeParse(plan({ files: [{ dir: 'elsewhere', name: 'x', mtimeMs: 1 }] }))
      .success,
  );
  assert.ok(!forwardedEvent.safeParse(plan({ id: '' })).success);
});

test('agent events: typed to the leaf; unknown types, negative tokens and a file-less reset are refused', () => {
  assert.ok(forwardedEvent.safeParse(response()).success);
  assert.ok(
    forwardedEvent.safeParse({ source: 'agents', event: { kind: 'reset', file: '/t.jsonl' } })
      .success,
  );
  assert.ok(!forwardedEvent.safeParse(response({ type: 'teleport' })).success);
  assert.ok(
    !forwardedEvent.safeParse(
      response({ usage: { input: -1, output: 0, cacheRead: 0, cacheWrite5m: 0, cacheWrite1h: 0 } }),
    ).success,
  );
  assert.ok(!forwardedEvent.safeParse({ source: 'agents', event: { kind: 'reset' } }).success);
  assert.ok(!forwardedEvent.safeParse(response({ sessionId: 'x'.repeat(501) })).success);
});

test('an event at the forward depth fits a batch within the server’s 64 levels; one deeper does not', () => {
  let deep: unknown = 1;
  for (let i = 0; i < FORWARD_EVENT_DEPTH; i++) deep = [deep];
  const batch = (event: unknown) => ({ events: [{ seq: 1, event }] });
  assert.ok(!jsonValueTooDeep(deep, FORWARD_EVENT_DEPTH));
  assert.ok(!jsonValueTooDeep(batch(deep), MAX_JSON_DEPTH));
  assert.ok(jsonValueTooDeep(batch([deep]), MAX_JSON_DEPTH));
});
