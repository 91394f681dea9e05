/// <reference types="node" />
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseHash, sessionHref } from './route.ts';

test('hash routes round-trip ids with any characters', () => {
  const id = 'weather-app@other/folder <x>';
  assert.deepEqual(parseHash(sessionHref(id)), { view: 'session', id, at: null });
  assert.deepEqual(parseHash(sessionHref(id, 1_700_000_000_123)), {
    view: 'session',
    id,
    at: 1_700_000_000_123,
  });
  assert.equal((parseHash(`${sessionHref(id)}?at=soon`) as { at: unknown }).at, null);
  assert.deepEqual(parseHash(''), { view: 'overview' });
  assert.deepEqual(parseHash('#/'), { view: 'overview' });
  assert.deepEqual(parseHash('#/plan/DEMO-PLAN'), { view: 'plan', id: 'DEMO-PLAN' });
  assert.deepEqual(parseHash('#/agent/5f3c%3A1'), { view: 'agent', id: '5f3c:1' });
  assert.equal(parseHash('#/session/%E0%A4%A').view, 'not_found');
  assert.equal(parseHash('#/nope').view, 'not_found');
});
