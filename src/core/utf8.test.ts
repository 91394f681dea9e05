import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { utf8Bytes, utf8Length } from './utf8.ts';

const platform = new TextEncoder();

describe('utf8', () => {
  test('agrees with TextEncoder on ASCII, 2-, 3- and 4-byte characters and lone surrogates', () => {
    for (const s of [
      '',
      'abc',
      'é',
      'ü€',
      '日本語',
      '😀',
      'a😀b',
      '\ud800',
      'x\udc00y',
      '\ud83d',
    ]) {
      assert.deepEqual(utf8Bytes(s), platform.encode(s), JSON.stringify(s));
      assert.equal(utf8Length(s), platform.encode(s).length, JSON.stringify(s));
    }
  });

  test('agrees with TextEncoder on any string, surrogates included', () => {
    fc.assert(
      // Single UTF-16 units, so lone and paired surrogates both come up often.
      fc.property(fc.string({ unit: fc.nat(0xffff).map((c) => String.fromCharCode(c)) }), (s) => {
        assert.deepEqual(utf8Bytes(s), platform.encode(s));
        assert.equal(utf8Length(s), platform.encode(s).length);
      }),
      { numRuns: 500 },
    );
  });
});
