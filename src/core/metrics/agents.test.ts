import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  AGENT_METADATA_LIMITS,
  agentTree,
  applyAgentUpdate,
  MAX_AGENTS_SHOWN,
  parseAgentUpdate,
} from './agents.ts';
import { computeAnalytics } from './analytics.ts';
import { eventLine } from './events.ts';

function update(body: Record<string, unknown>) {
  const r = parseAgentUpdate(body);
  assert.ok(r.ok, r.ok ? '' : r.message);
  return r.update;
}

test('agent updates: required ids, numbers coerced, run closed on a final status and reopened', () => {
  assert.deepEqual(parseAgentUpdate('x'), {
    ok: false,
    error: 'bad_request',
    message: 'The body must be a JSON object with session_id and agent_id.',
  });
  const both = parseAgentUpdate({});
  assert.match(both.ok ? '' : both.message, /session_id is required; agent_id is required/);
  const a = applyAgentUpdate(
    null,
    update({ session_id: 's', agent_id: 'a', tokens_used: '50' }),
    100,
  );
  assert.deepEqual([a.status, a.tokensUsed, a.startedAt, a.endedAt], ['unknown', 50, 100, null]);
  const done = applyAgentUpdate(
    a,
    update({ session_id: 's', agent_id: 'a', status: 'failed', error_message: 'boom' }),
    400,
  );
  assert.deepEqual(
    [done.endedAt, done.durationMs, done.errorMessage, done.tokensUsed],
    [400, 300, 'boom', 50],
  );
  const again = applyAgentUpdate(
    done,
    update({ session_id: 's', agent_id: 'a', status: 'running' }),
    500,
  );
  assert.deepEqual([again.endedAt, again.durationMs], [null, null]);
});

test('agent tree: parents before children; orphans and cycles are kept', () => {
  const mk = (id: string, parent: string | null, at: number) =>
    applyAgentUpdate(null, update({ session_id: 's', agent_id: id, parent_agent_id: parent }), at);
  const tree = agentTree([
    mk('child', 'root', 2),
    mk('root', null, 1),
    mk('orphan', 'gone', 3),
    mk('x', 'y', 4),
    mk('y', 'x', 5),
  ]);
  assert.deepEqual(
    tree.map((a) => a.agentId),
    ['root', 'child', 'orphan', 'x', 'y'],
  );
});

test('event lines are readable one-liners', () => {
  assert.deepEqual(
    eventLine({ type: 'task_complete', timestamp: 1_700_000_000, data: { task: 'API' } }, 5),
    {
      at: 1_700_000_000_000,
      kind: 'task_complete',
      text: 'task_complete: API',
      sessionId: null,
      identity: null,
    },
  );
  assert.equal(
    eventLine({ type: 'log_line', timestamp: 't1', sequence: 3, data: { line: 'x' } }, 5)?.identity,
    '3|log_line|t1',
  );
  assert.equal(
    eventLine({ type: 'context_update', data: { percent: 40 } }, 5)?.text,
    'context_update: {"percent":40}',
  );
  assert.equal(eventLine({ message: 'hi' }, 5)?.text, 'event: hi');
  assert.equal(eventLine({ type: 'bad type!' }, 5)?.kind, 'event');
  assert.equal(eventLine([1], 5), null);
});

test('analytics over nothing are nulls and zeros', () => {
  assert.deepEqual(computeAnalytics([]), {
    sessions: 0,
    avgPhaseDurationMs: {},
    tokensPerPhase: {},
    avgTestIterationsToGreen: null,
    failureRate: null,
  });
});

test('agent metadata and the number of agents shown are bounded', () => {
  const metadata: Record<string, string> = {};
  for (let k = 0; k < 1000; k++) metadata[`m${k}`] = 'm'.repeat(900);
  const a = applyAgentUpdate(null, update({ session_id: 's', agent_id: 'a', metadata }), 1);
  assert.ok(JSON.stringify(a.metadata).length <= AGENT_METADATA_LIMITS.chars);
  const merged = applyAgentUpdate(a, update({ session_id: 's', agent_id: 'a', metadata }), 2);
  assert.ok(JSON.stringify(merged.metadata).length <= AGENT_METADATA_LIMITS.chars);

  const many = Array.from({ length: MAX_AGENTS_SHOWN + 100 }, (_, i) =>
    applyAgentUpdate(null, update({ session_id: 's', agent_id: `a${i}` }), 1000 + i),
  );
  const tree = agentTree(many);
  assert.equal(tree.length, MAX_AGENTS_SHOWN);
  assert.ok(!tree.some((n) => n.agentId === 'a0'), 'the least recently updated is left out');
  assert.ok(tree.some((n) => n.agentId === `a${MAX_AGENTS_SHOWN + 99}`));
});
