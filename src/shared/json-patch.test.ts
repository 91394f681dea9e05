import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { applyPatch, diff, jsonEqual, PatchError } from './json-patch.ts';

test('jsonEqual ignores key order and undefined properties', () => {
  assert.equal(jsonEqual({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 }), true);
  assert.equal(jsonEqual({ a: 1, b: undefined }, { a: 1 }), true);
  assert.equal(jsonEqual({ a: 1 }, { a: 2 }), false);
  assert.equal(jsonEqual([1, 2], [2, 1]), false);
  assert.equal(jsonEqual(null, {}), false);
  assert.equal(jsonEqual({}, []), false);
});

test('diff of equal values is empty', () => {
  assert.deepEqual(diff({ a: { b: 1 } }, { a: { b: 1 } }), []);
});

test('diff emits add, replace and remove with escaped paths', () => {
  const ops = diff({ 'a/b': 1, 'c~d': 2, gone: true }, { 'a/b': 3, 'c~d': 2, fresh: null });
  assert.deepEqual(ops, [
    { op: 'remove', path: '/gone' },
    { op: 'replace', path: '/a~1b', value: 3 },
    { op: 'add', path: '/fresh', value: null },
  ]);
});

test('an array that grows at the end gets element operations', () => {
  assert.deepEqual(diff({ l: [1, 2] }, { l: [1, 2, 3] }), [{ op: 'add', path: '/l/2', value: 3 }]);
  const from = { t: [{ p: 'a', end: null }] };
  const to = {
    t: [
      { p: 'a', end: 5 },
      { p: 'b', end: null },
    ],
  };
  const ops = diff(from, to);
  assert.deepEqual(ops, [
    { op: 'replace', path: '/t/0/end', value: 5 },
    { op: 'add', path: '/t/1', value: { p: 'b', end: null } },
  ]);
  assert.deepEqual(applyPatch(from, ops), to);
});

test('other array changes replace the array', () => {
  assert.deepEqual(diff({ l: [1, 2, 3] }, { l: [1, 2] }), [
    { op: 'replace', path: '/l', value: [1, 2] },
  ]);
  assert.deepEqual(diff({ l: [1, 2, 3] }, { l: [3, 2, 1] }), [
    { op: 'replace', path: '/l', value: [3, 2, 1] },
  ]);
});

test('array operations out of range are patch errors', () => {
  assert.throws(() => applyPatch({ l: [1] }, [{ op: 'add', path: '/l/3', value: 1 }]), PatchError);
  assert.throws(
    () => applyPatch({ l: [1] }, [{ op: 'replace', path: '/l/x', value: 1 }]),
    PatchError,
  );
  assert.deepEqual(applyPatch({ l: [1] }, [{ op: 'add', path: '/l/-', value: 2 }]), { l: [1, 2] });
});

test('applyPatch is immutable and shares untouched branches', () => {
  const doc = { keep: { x: 1 }, change: { y: 1 } };
  const next = applyPatch(doc, [{ op: 'replace', path: '/change/y', value: 2 }]);
  assert.deepEqual(doc.change, { y: 1 });
  assert.equal(next.keep, doc.keep);
  assert.deepEqual(next.change, { y: 2 });
});

test('applyPatch rejects paths that do not fit', () => {
  assert.throws(() => applyPatch({ a: 1 }, [{ op: 'remove', path: '/b' }]), PatchError);
  assert.throws(() => applyPatch({ a: 1 }, [{ op: 'add', path: '/a/b', value: 1 }]), PatchError);
  assert.throws(() => applyPatch({}, [{ op: 'remove', path: '' }]), PatchError);
});

const json = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.string({ maxLength: 4 }),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom('a', 'b', 'c/d', 'e~f', ''), tie('value'), { maxKeys: 4 }),
  ),
})).value;

test('applyPatch(a, diff(a, b)) equals b for any JSON values', () => {
  fc.assert(
    fc.property(json, json, (a, b) => {
      assert.equal(jsonEqual(applyPatch(a, diff(a, b)), b), true);
    }),
    { numRuns: 500 },
  );
});
