import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseBusUrl } from './replica.ts';

test('the bus URL carries the lease, the prefix and the queue bounds; ioredis gets the rest', () => {
  assert.deepEqual(
    parseBusUrl('redis://cache:6379/2?lease_ms=3000&prefix=team:&queue_kb=512&queue_deltas=800'),
    {
      url: 'redis://cache:6379/2',
      leaseMs: 3000,
      prefix: 'team:',
      queue: { maxBytes: 512 * 1024, maxDeltas: 800 },
    },
  );
  assert.deepEqual(parseBusUrl('redis://cache:6379').queue, {});
  assert.throws(
    () => parseBusUrl('redis://cache?queue_kb=1'),
    /queue_kb must be a whole number of KiB, at least 16/,
  );
  assert.throws(
    () => parseBusUrl('redis://cache?queue_deltas=x'),
    /queue_deltas must be a whole number/,
  );
});
