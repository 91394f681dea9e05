import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  applyPatch,
  diff,
  diffEntries,
  type JsonPatchOp,
  jsonEqual,
  jsonLengthAtMost,
  PatchError,
} from './json-patch.ts';

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
  const ops = diff({ 'a/b': 1, 'c~d': 2, gone: true }, { 'a/b': 3, 'c~d': 2 });
  assert.deepEqual(ops, [
    { op: 'remove', path: '/gone' },
    { op: 'replace', path: '/a~1b', value: 3 },
  ]);
  assert.deepEqual(diff({ x: { 'e~f': 1 } }, { x: { 'e~f': 1, fresh: null } }), [
    { op: 'add', path: '/x/fresh', value: null },
  ]);
});

test('an array that grows at the end gets element operations', () => {
  const long = 'an entry long enough that replacing the array costs more';
  assert.deepEqual(diff({ l: [long, 2] }, { l: [long, 2, 3] }), [
    { op: 'add', path: '/l/2', value: 3 },
  ]);
  const from = { t: [{ p: long, end: null }] };
  const to = {
    t: [
      { p: long, end: 5 },
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

test('several changed keys of one object become one merge, nulls included', () => {
  const from = {
    status: { phase: 'Scout', detail: 'Researching', eta: 100, percent: 25, done: ['a'], id: 'x' },
    timeline: [{ phase: 'Scout', endedAt: null, durationMs: null }],
  };
  const to = {
    status: {
      phase: 'Architect',
      detail: 'Designing',
      eta: null,
      percent: 37.5,
      done: ['a'],
      id: 'x',
    },
    timeline: [{ phase: 'Scout', endedAt: 40, durationMs: 40 }],
  };
  const ops = diff(from, to);
  assert.deepEqual(ops, [
    {
      op: 'merge',
      path: '/status',
      value: { phase: 'Architect', detail: 'Designing', eta: null, percent: 37.5 },
    },
    { op: 'merge', path: '/timeline/0', value: { endedAt: 40, durationMs: 40 } },
  ]);
  assert.deepEqual(applyPatch(from, ops), to);
  const perLeaf = [
    { op: 'replace', path: '/status/phase', value: 'Architect' },
    { op: 'replace', path: '/status/detail', value: 'Designing' },
    { op: 'replace', path: '/status/eta', value: null },
    { op: 'replace', path: '/status/percent', value: 37.5 },
    { op: 'replace', path: '/timeline/0/endedAt', value: 40 },
    { op: 'replace', path: '/timeline/0/durationMs', value: 40 },
  ];
  assert.deepEqual(applyPatch(from, perLeaf as JsonPatchOp[]), to);
  assert.ok(JSON.stringify(ops).length < JSON.stringify(perLeaf).length);
});

test('a merge keeps a growing list as element operations and removals as remove ops', () => {
  const done = Array.from({ length: 20 }, (_, i) => `a completed phase with a long name ${i}`);
  const from = { a: 1, b: 2, c: 3, gone: 'x', done };
  const to = { a: 10, b: 20, c: 30, done: [...done, 'next'] };
  const ops = diff(from, to);
  assert.deepEqual(ops, [
    { op: 'remove', path: '/gone' },
    { op: 'merge', path: '', value: { a: 10, b: 20, c: 30 } },
    { op: 'add', path: '/done/20', value: 'next' },
  ]);
  assert.deepEqual(applyPatch(from, ops), to);
});

test('merge sets keys shallowly, keeps the others and shares untouched branches', () => {
  const doc = { s: { keep: { x: 1 }, nested: { y: 1, z: 2 }, n: 1 }, other: { q: 1 } };
  const next = applyPatch<{ s: Record<string, unknown>; other: object }>(doc, [
    { op: 'merge', path: '/s', value: { nested: { y: 2 }, n: null, fresh: [1] } },
  ]);
  assert.deepEqual(next, {
    s: { keep: { x: 1 }, nested: { y: 2 }, n: null, fresh: [1] },
    other: { q: 1 },
  });
  assert.equal(next.other, doc.other);
  assert.equal(next.s.keep, doc.s.keep);
  assert.deepEqual(doc.s, { keep: { x: 1 }, nested: { y: 1, z: 2 }, n: 1 });
});

test('merge into something that is not an object is a patch error', () => {
  assert.throws(
    () => applyPatch({ a: [1] }, [{ op: 'merge', path: '/a', value: { b: 1 } }]),
    PatchError,
  );
  assert.throws(
    () => applyPatch({ a: null }, [{ op: 'merge', path: '/a', value: { b: 1 } }]),
    PatchError,
  );
  assert.throws(
    () => applyPatch({}, [{ op: 'merge', path: '/missing', value: { b: 1 } }]),
    PatchError,
  );
  assert.throws(
    () => applyPatch({ l: [{}] }, [{ op: 'merge', path: '/l/1', value: { b: 1 } }]),
    PatchError,
  );
  assert.throws(
    () => applyPatch({ a: {} }, [{ op: 'merge', path: '/a', value: [1] as never }]),
    PatchError,
  );
  assert.deepEqual(
    applyPatch({ l: [{ a: 1 }] }, [{ op: 'merge', path: '/l/0', value: { b: 2 } }]),
    {
      l: [{ a: 1, b: 2 }],
    },
  );
});

test('a key named __proto__ is an own property, never the prototype', () => {
  const from = JSON.parse('{"o":{"__proto__":{"x":1},"a":1,"b":2}}');
  const to = JSON.parse('{"o":{"__proto__":{"x":2},"a":3,"b":4}}');
  const next = applyPatch(from, diff(from, to)) as { o: object };
  assert.equal(jsonEqual(next, to), true);
  assert.equal(Object.getPrototypeOf(next.o), Object.prototype);
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
    fc.dictionary(fc.constantFrom('a', 'b', 'c/d', 'e~f', '', '__proto__'), tie('value'), {
      maxKeys: 5,
    }),
  ),
})).value;

test('applyPatch(a, diff(a, b)) equals b for any JSON values', () => {
  fc.assert(
    fc.property(json, json, (a, b) => {
      assert.equal(jsonEqual(applyPatch(a, diff(a, b)), b), true);
    }),
    { numRuns: 1000 },
  );
});

test('diffEntries changes a collection in place and says it as a patch of a copy', () => {
  const key = fc.constantFrom('a', 'b', 'c/d', '~e', '__proto__');
  fc.assert(
    fc.property(
      fc.dictionary(key, json),
      fc.array(fc.tuple(key, fc.option(json, { nil: undefined })), { maxLength: 6 }),
      (start, changes) => {
        const target = JSON.parse(JSON.stringify(start)) as Record<string, unknown>;
        const copy = JSON.parse(JSON.stringify(start)) as Record<string, unknown>;
        const ops = diffEntries(target, '/items', new Map(changes));
        const after = applyPatch({ items: copy }, ops).items;
        assert.equal(jsonEqual(after, target), true);
        for (const [k, v] of new Map(changes)) {
          assert.equal(jsonEqual(Object.hasOwn(target, k) ? target[k] : undefined, v), true);
        }
      },
    ),
    { numRuns: 500 },
  );
});

test('diff finds no change between equal values, shared or copied', () => {
  fc.assert(
    fc.property(json, (a) => {
      assert.deepEqual(diff(a, a), []);
      assert.deepEqual(diff(a, structuredClone(a)), []);
    }),
    { numRuns: 1000 },
  );
});

test('diff of a large state with one deep change touches only that change', () => {
  const sessions: Record<string, unknown> = {};
  for (let i = 0; i < 200; i++) {
    sessions[`s${i}`] = { id: `s${i}`, timeline: Array.from({ length: 50 }, (_, j) => ({ j })) };
  }
  const next = { ...sessions, s7: { id: 's7', timeline: [{ j: 'x' }] } };
  assert.deepEqual(diff({ sessions }, { sessions: next }), [
    { op: 'replace', path: '/sessions/s7/timeline', value: [{ j: 'x' }] },
  ]);
});

describe('jsonLengthAtMost', () => {
  test('is the JSON length when within the limit, above the limit otherwise', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.nat(400), (value, limit) => {
        const exact = JSON.stringify(value).length;
        const got = jsonLengthAtMost(value, limit);
        if (exact <= limit) assert.equal(got, exact);
        else assert.ok(got > limit);
      }),
      { numRuns: 2000 },
    );
  });

  test('skips undefined properties and writes null for undefined array items', () => {
    const value = { a: undefined, b: [undefined, 1], c: 'x' };
    assert.equal(jsonLengthAtMost(value, 1000), JSON.stringify(value).length);
  });

  test('a small change to a large map is not serialised whole', () => {
    const big: Record<string, unknown> = {};
    for (let i = 0; i < 1000; i++) big[`s${i}`] = { name: 'x'.repeat(1000) };
    const read: string[] = [];
    const proxy = new Proxy(big, {
      get(target, key) {
        if (typeof key === 'string') read.push(key);
        return Reflect.get(target, key);
      },
    });
    assert.ok(jsonLengthAtMost(proxy, 100) > 100);
    assert.ok(read.length <= 2, `read ${read.length} entries`);
  });
});
