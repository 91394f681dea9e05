import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WriteQueue } from './redis-queue.ts';

test('a full queue keeps topics out, newest state each, oldest first; it takes them back at half', () => {
  const queue = new WriteQueue({ maxBytes: 1000, maxDeltas: 10 });
  queue.sent(600);
  assert.equal(queue.keepsOut('a'), false);
  queue.sent(400);
  assert.equal(queue.full, true);
  assert.equal(queue.keepsOut('a'), true);
  assert.equal(queue.keepOut('a', { version: 2, data: { n: 2 } }), true, 'went out of step');
  assert.equal(queue.keepOut('b', { version: 7, data: null }), false, 'already out of step');
  assert.equal(queue.keepOut('a', { version: 3, data: { n: 3 } }), false);
  assert.deepEqual(queue.stats, { deltas: 2, bytes: 1000, outOfStep: 2, keptOut: 3 });
  queue.settled(400);
  assert.equal(queue.full, false);
  assert.equal(queue.keepsOut('a'), true, 'an out-of-step topic stays out until sent whole');
  assert.equal(queue.keepsOut('c'), false, 'a topic in step is queued while there is room');
  assert.equal(queue.roomy, false, 'not yet half');
  queue.settled(600);
  assert.equal(queue.roomy, true);
  assert.deepEqual(queue.next(), ['b', { version: 7, data: null }]);
  assert.deepEqual(queue.next(), ['a', { version: 3, data: { n: 3 } }]);
  assert.equal(queue.next(), null);
  assert.equal(queue.inStep, true);
});

test('the delta count bounds the queue as well as its bytes', () => {
  const queue = new WriteQueue({ maxBytes: 1_000_000, maxDeltas: 3 });
  for (let i = 0; i < 3; i++) queue.sent(1);
  assert.equal(queue.full, true);
  queue.settled(1);
  assert.equal(queue.full, false);
  assert.equal(queue.roomy, false);
  queue.settled(1);
  assert.equal(queue.roomy, true);
});
