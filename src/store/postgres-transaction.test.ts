import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inlineTransaction } from './postgres-transaction.ts';

test('values become quoted literals in place of their placeholders, $10 after $1', () => {
  const values = ['a', 2, null, undefined, true, [1, 2], { k: "it's" }, Buffer.from([0xde, 0xad])];
  values.push('x9', 'x10');
  const text = inlineTransaction([
    { text: 'INSERT INTO t VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)', values },
  ]);
  assert.equal(
    text,
    [
      'BEGIN',
      `INSERT INTO t VALUES ('a', '2', NULL, NULL, 'true', '{"1","2"}', '{"k":"it''s"}',  E'\\\\xdead', 'x9', 'x10')`,
      'COMMIT',
    ].join(';\n'),
  );
});

test('quotes and backslashes cannot end a literal early', () => {
  const text = inlineTransaction([
    { text: 'SELECT $1', values: ["'); DROP TABLE sessions; --"] },
    { text: 'SELECT $1', values: ["\\'; DROP TABLE sessions; --"] },
  ]);
  assert.equal(
    text,
    [
      'BEGIN',
      "SELECT '''); DROP TABLE sessions; --'",
      "SELECT  E'\\\\''; DROP TABLE sessions; --'",
      'COMMIT',
    ].join(';\n'),
  );
});

test('a NUL character or a placeholder without a value: not inlined (sent as parameters)', () => {
  assert.equal(inlineTransaction([{ text: 'SELECT $1', values: ['a\u0000b'] }]), null);
  assert.equal(inlineTransaction([{ text: 'SELECT $1', values: [['a\u0000']] }]), null);
  assert.equal(inlineTransaction([{ text: 'SELECT $2', values: ['a'] }]), null);
});
