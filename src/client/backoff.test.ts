import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffDelay, DEFAULT_BACKOFF } from './backoff.ts';

test('delays double from 0.5 s and are capped at 5 s', () => {
  const mid = (attempt: number) => backoffDelay(attempt, DEFAULT_BACKOFF, 0.5);
  assert.deepEqual([1, 2, 3, 4, 5, 6, 20].map(mid), [500, 1000, 2000, 4000, 5000, 5000, 5000]);
});

test('jitter stays within ±20 % and under the cap', () => {
  assert.equal(backoffDelay(1, DEFAULT_BACKOFF, 0), 400);
  assert.equal(backoffDelay(1, DEFAULT_BACKOFF, 0.999999), 600);
  assert.equal(backoffDelay(10, DEFAULT_BACKOFF, 0.999999), 5000);
  assert.equal(backoffDelay(10, DEFAULT_BACKOFF, 0), 4000);
});
