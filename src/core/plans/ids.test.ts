import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ambiguousNumbers,
  compactId,
  compareIds,
  majorsOf,
  numberTable,
  resolveNumber,
} from './ids.ts';

const resolver = (ids: string[]) => {
  const table = numberTable(ids);
  const set = new Set(ids);
  const majors = majorsOf(ids);
  return (num: string, declared?: string | null) =>
    resolveNumber(num, table, set, majors, declared);
};

test('compactId drops the dots, so 1.10 and 11.0 collide as numbers', () => {
  assert.equal(compactId('1.10'), '110');
  assert.equal(compactId('11.0'), '110');
  assert.deepEqual([...ambiguousNumbers(numberTable(['1.1', '1.10', '11.0']))], ['110']);
});

test('a number matching one indexed id resolves to it: 110 is 11.0 when the index has only 11.0', () => {
  assert.deepEqual(resolver(['1.1', '11.0'])('110'), {
    id: '11.0',
    indexed: true,
    ambiguousWith: null,
  });
  assert.deepEqual(resolver(['1.1', '1.10'])('110'), {
    id: '1.10',
    indexed: true,
    ambiguousWith: null,
  });
  assert.deepEqual(resolver(['1.2'])('12'), { id: '1.2', indexed: true, ambiguousWith: null });
});

test('an ambiguous number takes the declared achievement, else the shortest major with a flag', () => {
  const r = resolver(['1.10', '11.0']);
  assert.deepEqual(r('110', '11.0'), { id: '11.0', indexed: true, ambiguousWith: null });
  assert.deepEqual(r('110', '1.10'), { id: '1.10', indexed: true, ambiguousWith: null });
  assert.deepEqual(r('110'), { id: '1.10', indexed: true, ambiguousWith: ['1.10', '11.0'] });
  assert.deepEqual(r('110', '7.7'), { id: '1.10', indexed: true, ambiguousWith: ['1.10', '11.0'] });
});

test('dotted numbers in file names are taken as written', () => {
  const r = resolver(['1.10', '11.0']);
  assert.deepEqual(r('11.0'), { id: '11.0', indexed: true, ambiguousWith: null });
  assert.deepEqual(r('3.4'), { id: '3.4', indexed: false, ambiguousWith: null });
});

test('unindexed numbers are split after a major the index uses, else after the first digit', () => {
  const r = resolver(['12.1', '12.2']);
  assert.deepEqual(r('125'), { id: '12.5', indexed: false, ambiguousWith: null });
  assert.deepEqual(resolver(['1.1'])('47'), { id: '4.7', indexed: false, ambiguousWith: null });
  assert.deepEqual(resolver([])('5'), { id: '5', indexed: false, ambiguousWith: null });
  assert.deepEqual(resolver([])('512', '5.12'), {
    id: '5.12',
    indexed: false,
    ambiguousWith: null,
  });
  assert.equal(resolver([])('abc'), null);
});

test('compareIds orders numerically part by part', () => {
  const ids = ['11.0', '1.10', '2.0', '1.2', '1.1'];
  assert.deepEqual(ids.sort(compareIds), ['1.1', '1.2', '1.10', '2.0', '11.0']);
});
