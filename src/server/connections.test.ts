import assert from 'node:assert/strict';
import { test } from 'node:test';
import { closeReason, defaultConnectionLimits } from './connections.ts';

test('a close reason fits the 123 bytes of a close frame, multi-byte text included', () => {
  assert.equal(closeReason('short'), 'short');
  for (const text of ['x'.repeat(500), 'é'.repeat(500), `${'a'.repeat(121)}😀😀`]) {
    const reason = closeReason(text);
    assert.ok(Buffer.byteLength(reason) <= 123, `${Buffer.byteLength(reason)} bytes`);
    assert.ok(reason.endsWith('…'));
  }
});

test('default limits leave descriptors for the rest of the server', () => {
  const limits = defaultConnectionLimits();
  assert.ok(limits.maxTotal >= 64 && limits.maxTotal <= 1000);
  assert.ok(limits.maxPerAddress <= limits.maxTotal);
  assert.equal(limits.idleMs, 10_000);
});
