import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { jsonTextDepth, jsonTextTooDeep, jsonValueTooDeep } from './json-depth.ts';

function depthOf(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  const children = Array.isArray(value) ? value : Object.values(value);
  return 1 + Math.max(0, ...children.map(depthOf));
}

test('the text depth is the nesting of any JSON value, brackets in strings ignored', () => {
  fc.assert(
    fc.property(fc.jsonValue({ maxDepth: 8 }), (value) => {
      const text = JSON.stringify(value);
      assert.equal(jsonTextDepth(text, 1000), depthOf(value));
      assert.equal(jsonValueTooDeep(value, depthOf(value)), false);
      if (depthOf(value) > 0) assert.equal(jsonValueTooDeep(value, depthOf(value) - 1), true);
    }),
  );
  assert.equal(jsonTextDepth('{"a":"[[[{{{\\"[["}', 100), 1);
});

test('100,000 levels are answered without overflowing the stack', () => {
  const text = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
  assert.equal(jsonTextTooDeep(text), true);
  assert.equal(jsonValueTooDeep(JSON.parse(text)), true);
  assert.equal(jsonTextTooDeep('{"a":[1,{"b":2}]}'), false);
});
