import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PlanDetail } from '../shared/plans.ts';
import { createStore, initialState, reduce } from './state.ts';

const config = {
  commands: { executeNext: ['next'], createSubplan: ['sub'], createExecution: ['exe'] },
  cwd: '/p',
  timeoutMs: 1000,
  source: 'test',
};
const plan = (id: string) => ({ id }) as unknown as PlanDetail;

test('the reducer returns the same state when an event changes nothing', () => {
  const s0 = initialState({ plansDir: '/p', config });
  const a = plan('A');
  const s1 = reduce(s0, { type: 'plans', plans: [a] });
  assert.notEqual(s1, s0);
  assert.equal(reduce(s1, { type: 'plans', plans: [a] }), s1, 'same plan objects: same state');
  assert.equal(reduce(s1, { type: 'refreshing', on: false }), s1);
  assert.equal(reduce(s1, { type: 'error', message: null }), s1);
  assert.equal(reduce(s1, { type: 'action', run: null }), s1);
  const s2 = reduce(s1, { type: 'plans', plans: [plan('A')] });
  assert.notEqual(s2.plans, s1.plans, 'a new plan object is a change');
});

test('loaded stamps the time and clears an error; notices are kept once, the last five', () => {
  let s = initialState({ plansDir: '/p', config, notices: ['second instance'] });
  s = reduce(s, { type: 'error', message: 'Reading /p failed: EACCES' });
  s = reduce(s, { type: 'loaded', at: 42 });
  assert.deepEqual([s.loadedAt, s.error], [42, null]);
  for (const n of ['a', 'b', 'a', 'c', 'd', 'e', 'f'])
    s = reduce(s, { type: 'notice', message: n });
  assert.deepEqual(s.notices, ['b', 'c', 'd', 'e', 'f']);
});

test('builds keep their url; an identical report is no change', () => {
  const s0 = initialState({ plansDir: '/p', config, buildsUrl: 'http://127.0.0.1:1' });
  const sessions: never[] = [];
  const s1 = reduce(s0, { type: 'builds', builds: { status: 'connected', sessions, error: null } });
  assert.equal(s1.builds.url, 'http://127.0.0.1:1');
  assert.equal(
    reduce(s1, { type: 'builds', builds: { status: 'connected', sessions, error: null } }),
    s1,
  );
  assert.equal(initialState({ plansDir: '/p', config, pollMs: 2000 }).watch.mode, 'poll');
  assert.equal(initialState({ plansDir: '/p', config, fromServer: true }).watch.mode, 'server');
});

test('the store tells listeners about real changes only', () => {
  const store = createStore(initialState({ plansDir: '/p', config }));
  let calls = 0;
  const off = store.subscribe(() => calls++);
  store.dispatch({ type: 'refreshing', on: true });
  store.dispatch({ type: 'refreshing', on: true });
  off();
  store.dispatch({ type: 'refreshing', on: false });
  assert.equal(calls, 1);
  assert.equal(store.getState().refreshing, false);
});
