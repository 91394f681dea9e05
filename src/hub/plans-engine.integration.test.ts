import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Fastify from 'fastify';
import pino from 'pino';
import {
  planText,
  tempDir,
  writeFixtureFile,
  writePlan,
} from '../../test/helpers/plan-fixtures.ts';
import { plansRoutes } from '../server/routes/plans.ts';
import type { PlanDetail } from '../shared/plans.ts';
import { PlanFoldersSource, planFolderOf } from '../sources/plans/folders.ts';
import { RootWatcher } from '../sources/watcher.ts';
import { MemoryHub } from './hub.ts';
import { PlansEngine } from './plans-engine.ts';

const { dir: root, cleanup } = tempDir('livestream-engine-');
after(cleanup);
const logger = pino({ level: 'silent' });

test('planFolderOf accepts plan files under work-space/plans only', () => {
  assert.equal(
    planFolderOf('proj/work-space/plans/DEMO/PLAN_DEMO.md'),
    'proj/work-space/plans/DEMO',
  );
  assert.equal(
    planFolderOf('work-space/plans/DEMO/execution/feedbacks/FIX_1.md'),
    'work-space/plans/DEMO',
  );
  assert.equal(planFolderOf('work-space/plans/DEMO/parallel.json'), 'work-space/plans/DEMO');
  assert.equal(planFolderOf('work-space/plans/DEMO/notes/x.md'), null);
  assert.equal(planFolderOf('work-space/plans/.hidden/PLAN_X.md'), null);
  assert.equal(planFolderOf('work-space/plans/README.md'), null);
  assert.equal(planFolderOf('src/plans/DEMO/PLAN_DEMO.md'), null);
});

test('the engine publishes plans and plan:<id> from the watcher, and follows changes', async (t) => {
  const a = join(root, 'a', 'work-space', 'plans');
  const b = join(root, 'b', 'work-space', 'plans');
  writePlan(a, 'DEMO', [
    {
      path: 'PLAN_DEMO.md',
      text: planText('Demo', [
        ['1.1', 'One'],
        ['1.2', 'Two'],
      ]),
    },
  ]);
  writePlan(b, 'DEMO', [{ path: 'PLAN_DEMO.md', text: planText('Other demo', [['1.1', 'One']]) }]);
  const hub = new MemoryHub();
  const engine = new PlansEngine({ hub });
  const source = new PlanFoldersSource((event) => engine.apply(event), { logger, debounceMs: 20 });
  // One watcher per project, started in turn: the project seen first keeps the bare id.
  const watchers = ['a', 'b'].map(
    (name) => new RootWatcher({ roots: [join(root, name)], handlers: source.handlers(), logger }),
  );
  t.after(async () => {
    for (const watcher of watchers) await watcher.stop();
    source.close();
  });
  for (const watcher of watchers) {
    await watcher.start();
    await source.idle();
  }
  assert.deepEqual(
    engine
      .list()
      .map((p) => p.id)
      .sort(),
    ['DEMO', 'DEMO@b'].sort(),
  );
  const first = hub.get('plan:DEMO')?.data as PlanDetail;
  assert.equal(first.progress.total, 2);
  assert.deepEqual(
    Object.keys((hub.get('plans')?.data as { plans: object } | undefined)?.plans ?? {}).sort(),
    ['DEMO', 'DEMO@b'],
  );

  const changed = new Promise<void>((resolve) => {
    const off = hub.fanout.subscribe('plan:DEMO', () => {
      off();
      resolve();
    });
  });
  writeFixtureFile(join(a, 'DEMO'), { path: 'execution/feedbacks/APPROVED_11.md' });
  await changed;
  await source.idle();
  const second = engine.get('DEMO');
  assert.equal(second?.achievements[0]?.status, 'approved');
  assert.notEqual(second, first, 'a new object, never the old one mutated');
  assert.equal(first.achievements[0]?.status, 'not_started');

  const version = hub.get('plans')?.version;
  source.touch(join(a, 'DEMO'));
  await source.idle();
  assert.equal(hub.get('plans')?.version, version, 'an unchanged re-read publishes nothing');

  rmSync(join(b, 'DEMO'), { recursive: true });
  source.touch(join(b, 'DEMO'));
  await source.idle();
  assert.equal(engine.get('DEMO@b'), null);
  assert.equal(hub.get('plan:DEMO@b'), undefined);
  assert.deepEqual(
    engine.list().map((p) => p.id),
    ['DEMO'],
  );
});

test('GET /api/plans and /api/plans/:id, with 404 and 400 answers', async (t) => {
  const project = join(root, 'http');
  writePlan(join(project, 'work-space', 'plans'), 'WEB', [
    { path: 'PLAN_WEB.md', text: planText('Web', [['1.1', 'One']]) },
  ]);
  const engine = new PlansEngine({ hub: new MemoryHub() });
  const source = new PlanFoldersSource((event) => engine.apply(event), { logger, debounceMs: 1 });
  source.touch(join(project, 'work-space', 'plans', 'WEB'));
  await source.idle();
  const app = Fastify();
  await app.register(plansRoutes, { plans: engine });
  t.after(() => app.close());
  const list = await app.inject({ method: 'GET', url: '/api/plans' });
  assert.equal(list.statusCode, 200);
  assert.deepEqual(
    list.json().plans.map((p: { id: string }) => p.id),
    ['WEB'],
  );
  assert.equal(list.json().count, 1);
  const one = await app.inject({ method: 'GET', url: '/api/plans/WEB' });
  assert.equal(one.json().achievements[0].id, '1.1');
  const missing = await app.inject({ method: 'GET', url: '/api/plans/NOPE' });
  assert.equal(missing.statusCode, 404);
  assert.deepEqual(Object.keys(missing.json()).sort(), ['error', 'message']);
  assert.equal(missing.json().error, 'not_found');
  for (const bad of [
    '..%2F..%2Fetc',
    '%2Fetc%2Fpasswd',
    'a%00b',
    'x'.repeat(300),
    'a/b',
    '..%5Cx',
  ]) {
    const res = await app.inject({ method: 'GET', url: `/api/plans/${bad}` });
    assert.equal(res.statusCode, 400, bad);
    assert.equal(res.json().error, 'bad_request');
  }
});

test('planFolderOf finds plans inside grouping folders, at any depth', () => {
  assert.equal(
    planFolderOf('work-space/plans/a_paused/DEMO/execution/feedbacks/APPROVED_01.md'),
    'work-space/plans/a_paused/DEMO',
  );
  assert.equal(
    planFolderOf('p/work-space/plans/a_real-use-cases/X/subplans/SUBPLAN_X_01.md'),
    'p/work-space/plans/a_real-use-cases/X',
  );
  assert.equal(
    planFolderOf('work-space/plans/a_paused/X/PLAN_X.md'),
    'work-space/plans/a_paused/X',
  );
  assert.equal(planFolderOf('work-space/plans/a_paused/X/documentation/INDEX.md'), null);
});
