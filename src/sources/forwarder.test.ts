import assert from 'node:assert/strict';
import { test } from 'node:test';
import { retryAfter } from './forwarder.ts';

test('Retry-After: seconds, an HTTP date, or nothing usable', () => {
  const now = Date.parse('2026-12-04T10:00:00Z');
  assert.equal(retryAfter('3', now), 3000);
  assert.equal(retryAfter('0', now), 0);
  assert.equal(retryAfter('Fri, 04 Dec 2026 10:00:05 GMT', now), 5000);
  assert.equal(retryAfter('Fri, 04 Dec 2026 09:59:00 GMT', now), 0, 'a date passed: at once');
  assert.equal(retryAfter(null, now), 0);
  assert.equal(retryAfter('', now), 0);
  assert.equal(retryAfter('soon', now), 0);
  assert.equal(retryAfter('-4', now), 0);
});
