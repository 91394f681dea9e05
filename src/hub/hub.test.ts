import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyPatch } from '../shared/json-patch.ts';
import type { DeltaMessage } from '../shared/protocol.ts';
import { MemoryHub } from './hub.ts';

test('set emits a delta only on a real change, with versions and a global seq', () => {
  const hub = new MemoryHub();
  const seen: DeltaMessage[] = [];
  hub.fanout.subscribeAll((d) => seen.push(d));
  const first = hub.set('session:a', { status: 'x', n: 1 });
  assert.ok(first);
  assert.equal(first.version, 1);
  assert.equal(first.seq, 1);
  assert.deepEqual(first.op === 'patch' && first.patch, [
    { op: 'replace', path: '', value: { status: 'x', n: 1 } },
  ]);
  assert.equal(hub.set('session:a', { n: 1, status: 'x' }), null, 'identical state, no delta');
  const second = hub.set('session:b', { v: 1 });
  const third = hub.set('session:a', { status: 'y', n: 1 });
  assert.equal(second?.seq, 2);
  assert.equal(third?.version, 2);
  assert.equal(third?.seq, 3);
  assert.deepEqual(third?.op === 'patch' && third.patch, [
    { op: 'replace', path: '/status', value: 'y' },
  ]);
  assert.equal(hub.seq, 3);
  assert.equal(seen.length, 3);
  assert.deepEqual(hub.snapshot('session:a'), {
    type: 'snapshot',
    topic: 'session:a',
    version: 2,
    seq: 3,
    data: { status: 'y', n: 1 },
  });
});

test('append keeps the last cap items and sends only the new ones', () => {
  const hub = new MemoryHub();
  hub.append('logs:a', [1, 2, 3], 4);
  const delta = hub.append('logs:a', [4, 5, 6, 7, 8, 9], 4);
  assert.ok(delta && delta.op === 'append');
  assert.deepEqual(delta.items, [6, 7, 8, 9]);
  assert.equal(delta.version, 2);
  assert.deepEqual(hub.get('logs:a')?.data, { lines: [6, 7, 8, 9] });
  assert.equal(hub.append('logs:a', [], 4), null);
});

test('remove sends null and a re-created topic keeps counting versions', () => {
  const hub = new MemoryHub();
  hub.set('plan:p', { a: 1 });
  hub.remove('plan:p');
  assert.equal(hub.get('plan:p'), undefined);
  assert.deepEqual(hub.snapshot('plan:p').data, null);
  assert.equal(hub.snapshot('plan:p').version, 2);
  const again = hub.set('plan:p', { a: 2 });
  assert.equal(again?.version, 3);
  hub.remove('plan:missing');
  assert.equal(hub.seq, 3);
});

test('since replays the deltas of the asked topics after seq, in order', () => {
  const hub = new MemoryHub();
  for (let i = 0; i < 10; i++) hub.set(i % 2 ? 'session:odd' : 'session:even', { i });
  const replay = hub.since(4, new Set(['session:odd']));
  assert.deepEqual(
    replay?.map((d) => d.seq),
    [6, 8, 10],
  );
  assert.deepEqual(hub.since(10, new Set(['session:odd'])), []);
  assert.equal(hub.since(11, new Set(['session:odd'])), null, 'a seq from the future');
});

test('the replay buffer is bounded by count and since returns null past its floor', () => {
  const hub = new MemoryHub({ limits: { maxDeltas: 5 } });
  for (let i = 1; i <= 12; i++) hub.set('session:a', { i });
  assert.equal(hub.replayStats.deltas, 5);
  assert.equal(hub.replayStats.floor, 7);
  assert.equal(hub.since(6, new Set(['session:a'])), null);
  assert.deepEqual(
    hub.since(7, new Set(['session:a']))?.map((d) => d.seq),
    [8, 9, 10, 11, 12],
  );
});

test('the replay buffer is bounded by bytes', () => {
  const hub = new MemoryHub({ limits: { maxBytes: 2_000 } });
  for (let i = 0; i < 100; i++) hub.set('session:a', { text: `${i}`.padEnd(300, '.') });
  const { bytes, deltas, floor } = hub.replayStats;
  assert.ok(bytes <= 2_000, `${bytes} bytes buffered`);
  assert.ok(deltas >= 1 && deltas < 10);
  assert.equal(hub.since(floor - 1, new Set(['session:a'])), null);
  assert.equal(hub.since(floor, new Set(['session:a']))?.length, deltas);
});

test('compaction keeps the replay buffer readable', () => {
  const hub = new MemoryHub({ limits: { maxDeltas: 100 } });
  for (let i = 1; i <= 5_000; i++) hub.set('session:a', { i });
  assert.equal(hub.replayStats.deltas, 100);
  assert.deepEqual(hub.since(4_998, new Set(['session:a']))?.length, 2);
});

test('setEntries: same states and patches a client can follow, only the entries given', () => {
  const hub = new MemoryHub();
  const client: { data: unknown } = { data: null };
  hub.fanout.subscribeAll((d) => {
    if (d.op === 'patch') client.data = applyPatch(client.data, d.patch);
  });
  const handed = { a: { n: 1 }, 'b/~': { n: 2 } };
  hub.set('list', { items: handed });
  const snapshot = hub.snapshot('list');
  const delta = hub.setEntries('list', 'items', new Map([['b/~', { n: 3 }]]));
  assert.deepEqual(delta?.op === 'patch' && delta.patch, [
    { op: 'replace', path: '/items/b~1~0/n', value: 3 },
  ]);
  assert.deepEqual(
    handed,
    { a: { n: 1 }, 'b/~': { n: 2 } },
    'what a producer handed is not changed',
  );
  assert.deepEqual(snapshot.data, { items: handed }, 'an earlier snapshot keeps its state');
  hub.setEntries(
    'list',
    'items',
    new Map<string, unknown>([
      ['a', undefined],
      ['c', { n: 4 }],
    ]),
  );
  assert.equal(hub.setEntries('list', 'items', new Map([['c', { n: 4 }]])), null, 'no change');
  assert.equal(hub.setEntries('list', 'items', new Map([['gone', undefined]])), null);
  const expected = { items: { 'b/~': { n: 3 }, c: { n: 4 } } };
  assert.deepEqual(hub.get('list')?.data, expected);
  assert.deepEqual(client.data, expected);
  assert.equal(hub.get('list')?.version, 3);
  // A new top object per version: encodings cached by object never go stale.
  assert.notEqual(hub.snapshot('list').data, snapshot.data);

  // A topic that does not exist yet starts as the collection of the entries given.
  hub.setEntries('fresh', 'items', new Map([['x', 1]]));
  assert.deepEqual(hub.get('fresh')?.data, { items: { x: 1 } });
});

test('setEntries never changes an object a delta carried', () => {
  const hub = new MemoryHub();
  const deltas: DeltaMessage[] = [];
  hub.fanout.subscribeAll((d) => deltas.push(d));
  hub.setEntries('list', 'items', new Map([['a', 1]]));
  const first = structuredClone(deltas[0]);
  const state = hub.get('list')?.data;
  const held = structuredClone(state);
  hub.setEntries('list', 'items', new Map([['b', 2]]));
  hub.setEntries('list', 'items', new Map([['a', undefined]]));
  assert.deepEqual(deltas[0], first, 'the first delta still says what it said');
  assert.deepEqual(state, held, 'nor the state the first delta made');
  assert.deepEqual(hub.get('list')?.data, { items: { b: 2 } });
});
