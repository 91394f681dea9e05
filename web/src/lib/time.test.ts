/// <reference types="node" />
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compactCount, formatAgo, formatDuration, freshness } from './time.ts';

test('freshness: green under 5 s, yellow under 30 s, red after', () => {
  assert.equal(freshness(null, 1000), 'never');
  assert.equal(freshness(0, 4_999), 'fresh');
  assert.equal(freshness(0, 5_000), 'aging');
  assert.equal(freshness(0, 29_999), 'aging');
  assert.equal(freshness(0, 30_000), 'old');
});

test('ages and durations read naturally; a clock ahead reads as just now', () => {
  assert.equal(formatAgo(10_000, 9_000), 'just now');
  assert.equal(formatAgo(0, 42_000), '42 s ago');
  assert.equal(formatAgo(0, 3 * 60_000 + 5_000), '3 min ago');
  assert.equal(formatDuration(null), '—');
  assert.equal(formatDuration(200_000), '3 min 20 s');
  assert.equal(formatDuration(3_900_000), '1 h 05 min');
});

test('token axis labels stay short enough for the gutter', () => {
  assert.equal(compactCount(950), '950');
  assert.equal(compactCount(12_000), '12k');
  assert.equal(compactCount(1_250_000), '1.3M');
  assert.equal(compactCount(340_000), '340k');
  for (const n of [0, 999, 50_000, 1_000_000, 99_000_000, 2e9])
    assert.ok(compactCount(n).length <= 5);
});
