import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DeltaMessage } from '../shared/protocol.ts';
import { TopicStore } from './topic-store.ts';

function patch(version: number, seq: number, value: unknown, path = '/n'): DeltaMessage {
  return {
    type: 'delta',
    topic: 't',
    version,
    seq,
    op: 'patch',
    patch: [{ op: 'replace', path, value }],
  };
}

function store(): TopicStore {
  const s = new TopicStore();
  s.retain('t');
  s.applySnapshot({ type: 'snapshot', topic: 't', version: 3, seq: 10, data: { n: 0 } }, 1);
  return s;
}

test('deltas apply in order; duplicates by seq or version are ignored', () => {
  const s = store();
  assert.equal(s.applyDelta(patch(4, 11, 1), 2), 'applied');
  assert.equal(s.applyDelta(patch(4, 11, 1), 2), 'duplicate');
  assert.equal(s.applyDelta(patch(3, 9, 9), 2), 'duplicate');
  assert.equal(s.applyDelta(patch(5, 15, 2), 3), 'applied');
  assert.deepEqual(s.entry('t'), { data: { n: 2 }, version: 5, receivedAt: 3 });
  assert.equal(s.lastSeq, 15);
  assert.deepEqual(s.stats, {
    snapshots: 1,
    applied: 2,
    duplicates: 2,
    gaps: 0,
    resyncs: 0,
    resumes: 0,
  });
});

test('a version gap or a patch that does not fit waits for a snapshot', () => {
  const s = store();
  assert.equal(s.applyDelta(patch(5, 12, 1), 2), 'gap');
  assert.equal(s.applyDelta(patch(6, 13, 1), 2), 'ignored', 'nothing applies until the snapshot');
  s.applySnapshot({ type: 'snapshot', topic: 't', version: 6, seq: 13, data: { n: 6 } }, 3);
  assert.equal(s.applyDelta(patch(7, 14, 7), 4), 'applied');
  assert.equal(s.applyDelta(patch(8, 15, 1, '/missing/deep'), 5), 'gap');
  assert.equal(s.stats.gaps, 2);
});

test('a root replace is self-contained', () => {
  const s = store();
  const reset: DeltaMessage = {
    type: 'delta',
    topic: 't',
    version: 1,
    seq: 20,
    op: 'patch',
    patch: [{ op: 'replace', path: '', value: { fresh: true } }],
  };
  assert.equal(s.applyDelta(reset, 2), 'applied');
  assert.deepEqual(s.entry('t')?.data, { fresh: true });
});

test('a merge at the root follows the ordering rules like any other op', () => {
  const s = store();
  const merge = (version: number, seq: number, n: number): DeltaMessage => ({
    type: 'delta',
    topic: 't',
    version,
    seq,
    op: 'patch',
    patch: [{ op: 'merge', path: '', value: { n, m: null } }],
  });
  assert.equal(s.applyDelta(merge(6, 12, 5), 2), 'gap');
  s.applySnapshot({ type: 'snapshot', topic: 't', version: 3, seq: 10, data: { n: 0 } }, 3);
  assert.equal(s.applyDelta(merge(3, 11, 5), 4), 'duplicate');
  assert.equal(s.applyDelta(merge(4, 11, 5), 4), 'applied');
  assert.deepEqual(s.entry('t')?.data, { n: 5, m: null });
});

test('append deltas push lines and keep the last cap', () => {
  const s = new TopicStore();
  s.retain('logs:a');
  s.applySnapshot(
    { type: 'snapshot', topic: 'logs:a', version: 1, seq: 1, data: { lines: [1, 2] } },
    0,
  );
  const append = (version: number, items: number[]): DeltaMessage => ({
    type: 'delta',
    topic: 'logs:a',
    version,
    seq: version,
    op: 'append',
    items,
    cap: 3,
  });
  assert.equal(s.applyDelta(append(2, [3, 4]), 1), 'applied');
  assert.deepEqual(s.entry('logs:a')?.data, { lines: [2, 3, 4] });
  assert.equal(s.applyDelta(append(2, [3, 4]), 1), 'duplicate');
  assert.deepEqual(s.entry('logs:a')?.data, { lines: [2, 3, 4] });
});

test('references are counted and released topics drop their data', () => {
  const s = new TopicStore();
  assert.equal(s.retain('a'), true);
  assert.equal(s.retain('a'), false);
  s.applySnapshot({ type: 'snapshot', topic: 'a', version: 1, seq: 1, data: 1 }, 0);
  assert.deepEqual(s.resumable(), { a: 1 });
  assert.equal(s.release('a'), false);
  assert.equal(s.release('a'), true);
  assert.equal(s.entry('a'), undefined);
  assert.equal(
    s.applySnapshot({ type: 'snapshot', topic: 'a', version: 2, seq: 2, data: 2 }, 0),
    false,
  );
});
