import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseLlmTimestamp } from './session/timestamps.ts';
import { parseInstant } from './time.ts';

const AT = Date.UTC(2025, 0, 13, 0, 30);

describe('parseInstant', () => {
  it('reads ISO-8601 without a zone as UTC, with a zone as written', () => {
    assert.equal(parseInstant('2025-01-13T00:30:00'), AT);
    assert.equal(parseInstant('2025-01-13 00:30'), AT);
    assert.equal(parseInstant('2025-01-13t00:30:00z'), AT);
    assert.equal(parseInstant('  2025-01-13T00:30:00Z  '), AT);
    assert.equal(parseInstant('2025-01-13T00:30:00.999999'), AT + 999);
    assert.equal(parseInstant('2025-01-13T00:30:00,5'), AT + 500);
    assert.equal(parseInstant('2025-01-13T02:30:00+02'), AT);
    assert.equal(parseInstant('2025-01-13T02:30:00+0200'), AT);
    assert.equal(parseInstant('2025-01-13 02:30:00 +02:00'), AT);
    assert.equal(parseInstant('2025-01-12T23:30:00-01:00'), AT);
    assert.equal(parseInstant('2025-01-13'), Date.UTC(2025, 0, 13));
    assert.equal(parseInstant('2025-01-12T24:00:00'), Date.UTC(2025, 0, 13));
    assert.equal(parseInstant('2024-02-29T00:00:00Z'), Date.UTC(2024, 1, 29));
    assert.equal(parseInstant('1970-01-01T00:16:40.000Z'), 1_000_000);
    assert.equal(parseInstant('0050-01-01T00:00:00Z'), Date.parse('0050-01-01T00:00:00Z'));
  });

  it('agrees with Date.parse wherever the text names its zone', () => {
    for (const text of [
      '2025-01-13T00:30:00Z',
      '2025-06-30T23:59:59.5+14:00',
      '1999-12-31T23:00:00-12:00',
      '2025-01-13T00:30Z',
      'Mon, 13 Jan 2025 00:30:00 GMT',
      '13 Jan 2025 01:30:00 +0100',
      'Tue, 01 Jul 2025 12:00 UTC',
    ]) {
      assert.equal(parseInstant(text), Date.parse(text), text);
    }
  });

  it('reads numbers and digit strings as epoch seconds below 1e11, else milliseconds', () => {
    assert.equal(parseInstant(1_736_728_200), AT);
    assert.equal(parseInstant('1736728200'), AT);
    assert.equal(parseInstant(1_736_728_200.5), AT + 500);
    assert.equal(parseInstant(AT), AT);
    assert.equal(parseInstant(String(AT)), AT);
    // Small numbers are seconds since 1970, not rejected: only a caller's policy bounds them.
    assert.equal(parseInstant(5), 5_000);
    assert.equal(parseInstant(1_000), 1_000_000);
  });

  it('turns garbage into null without throwing', () => {
    for (const v of [
      'yesterday',
      '',
      '   ',
      'now',
      '2025-13-01T00:00:00',
      '2025-02-29T00:00:00',
      '2025-04-31',
      '2025-01-13T25:00:00',
      '2025-01-13T24:00:01',
      '2025-01-13T00:60:00',
      '2025-01-13T00:30:60',
      '2025-01-13T00:30:00+24:00',
      '2025-01-13T00:30:00 garbage Z',
      '2025-01-13Z',
      '99999-01-01',
      'January 13, 2025 00:30',
      'Mon, 13 Foo 2025 00:30:00 GMT',
      'Mon, 13 Jan 2025 00:30:00',
      '2025-01-13T00:30:00'.repeat(4),
      0,
      -5,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      1e300,
      null,
      undefined,
      true,
      {},
      [],
      ['2025-01-13'],
    ]) {
      assert.equal(parseInstant(v), null, JSON.stringify(v));
    }
  });
});

describe('parseLlmTimestamp', () => {
  it('is parseInstant bounded to 2000..2200', () => {
    assert.equal(parseLlmTimestamp('2025-01-13T00:30:00'), AT);
    assert.equal(parseLlmTimestamp('1970-01-01T00:16:40Z'), null);
    assert.equal(parseLlmTimestamp(1_000), null);
    assert.equal(parseLlmTimestamp('2199-12-31T23:59:59'), Date.UTC(2199, 11, 31, 23, 59, 59));
    assert.equal(parseLlmTimestamp('2200-01-01T00:00:01Z'), null);
  });
});
