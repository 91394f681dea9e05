import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import {
  type FixtureFile,
  planText,
  subplanText,
  tempDir,
  writePlan,
} from '../../../test/helpers/plan-fixtures.ts';
import { derivePlan } from '../../core/plans/derive.ts';
import type { PlanDetail } from '../../shared/plans.ts';
import { discoverPlans, projectRootOf, readPlanFolder, resolvePlansDir } from './read.ts';

const { dir: root, cleanup } = tempDir();
after(cleanup);
let n = 0;

/** Writes a plan DEMO with the given index and files into a fresh plans folder and derives it. */
async function derive(
  entries: [string, string][],
  files: FixtureFile[],
  extra: FixtureFile[] = [],
): Promise<PlanDetail> {
  const plansDir = join(root, `case-${++n}`);
  const dir = writePlan(plansDir, 'DEMO', [
    { path: 'PLAN_DEMO.md', text: planText('Demo plan', entries), mtime: 1000 },
    ...files,
    ...extra,
  ]);
  const input = await readPlanFolder(dir);
  assert.ok(input);
  return derivePlan(input);
}

const idx = (...ids: string[]) => ids.map((id): [string, string] => [id, `Title ${id}`]);
const sub = (num: string, mtime = 2000) => ({ path: `subplans/SUBPLAN_DEMO_${num}.md`, mtime });
const exe = (num: string, attempt = '01', mtime = 3000) => ({
  path: `execution/EXECUTION_TASK_DEMO_${num}_${attempt}.md`,
  mtime,
});
const ok = (num: string, mtime = 4000) => ({
  path: `execution/feedbacks/APPROVED_${num}.md`,
  mtime,
});
const fix = (num: string, mtime = 4000) => ({ path: `execution/feedbacks/FIX_${num}.md`, mtime });
const statusOf = (plan: PlanDetail) =>
  Object.fromEntries(plan.achievements.map((a) => [a.id, a.status]));

test('each achievement status, strongest first', async () => {
  const plan = await derive(idx('1.1', '1.2', '1.3', '1.4', '1.5'), [
    sub('11'),
    exe('11'),
    ok('11'),
    sub('12'),
    exe('12'),
    fix('12'),
    sub('13'),
    exe('13'),
    sub('14'),
  ]);
  assert.deepEqual(statusOf(plan), {
    '1.1': 'approved',
    '1.2': 'fix_pending',
    '1.3': 'in_progress',
    '1.4': 'ready',
    '1.5': 'not_started',
  });
  assert.deepEqual(
    plan.achievements.map((a) => a.nextAction),
    [
      null,
      'Address FIX_12.md',
      'Finish EXECUTION_TASK_DEMO_13_01.md and request review',
      'Create execution from SUBPLAN_DEMO_14.md',
      'Create subplan',
    ],
  );
  assert.equal(plan.status, 'needs_attention');
  assert.equal(plan.needsAttention, true);
  assert.equal(plan.health.level, 'bad');
});

test('a FIX followed by a later APPROVED is cleared', async () => {
  const plan = await derive(idx('1.1'), [sub('11'), exe('11'), fix('11', 4000), ok('11', 5000)]);
  assert.equal(plan.achievements[0]?.status, 'approved');
  assert.equal(plan.achievements[0]?.fixOpen, false);
  assert.equal(plan.stats.fixes, 1);
  assert.equal(plan.stats.fixesOpen, 0);
  assert.equal(plan.status, 'complete');
});

test('an APPROVED followed by a later FIX reopens the achievement', async () => {
  const plan = await derive(idx('1.1'), [sub('11'), exe('11'), ok('11', 4000), fix('11', 5000)]);
  assert.equal(plan.achievements[0]?.status, 'fix_pending');
  assert.equal(plan.achievements[0]?.fixOpen, true);
});

test('equal mtimes: APPROVED wins over FIX', async () => {
  const plan = await derive(idx('1.1'), [sub('11'), exe('11'), ok('11', 4000), fix('11', 4000)]);
  assert.equal(plan.achievements[0]?.status, 'approved');
  assert.equal(plan.achievements[0]?.fixOpen, false);
});

test('several FIX rounds: only an APPROVED newer than the newest FIX clears them', async () => {
  const files = [
    sub('11'),
    exe('11'),
    fix('11_01', 4000),
    ok('11', 4500),
    { path: 'execution/feedbacks/FIX_11_02.md', mtime: 4600 },
  ];
  const open = await derive(idx('1.1'), files);
  assert.equal(open.achievements[0]?.status, 'fix_pending');
  assert.equal(open.achievements[0]?.nextAction, 'Address FIX_11_02.md');
  const closed = await derive(idx('1.1'), [
    ...files.slice(0, 3),
    { path: 'execution/feedbacks/FIX_11_02.md', mtime: 4600 },
    ok('11', 4700),
  ]);
  assert.equal(closed.achievements[0]?.status, 'approved');
});

test('next is the earliest unfinished achievement, not what follows the last approval', async () => {
  const plan = await derive(idx('1.1', '1.2', '1.3', '2.1'), [ok('11'), ok('13'), sub('21')]);
  assert.deepEqual(plan.next, ['1.2']);
  assert.equal(plan.last, '1.3');
  assert.deepEqual(plan.progress, { done: 2, total: 4 });
  assert.equal(plan.status, 'ready');
});

test('next with parallel.json: every unfinished achievement whose dependencies are approved', async () => {
  const parallel = {
    achievements: [
      { achievement_id: '1.1', dependencies: [] },
      { achievement_id: '1.2', dependencies: ['1.1'], priority: 'high', estimated_hours: 3 },
      { achievement_id: '1.3', dependencies: ['1.1'] },
      { achievement_id: '2.1', dependencies: ['1.2', '1.3'] },
    ],
  };
  const plan = await derive(
    idx('1.1', '1.2', '1.3', '2.1', '2.2'),
    [ok('11')],
    [{ path: 'parallel.json', text: JSON.stringify(parallel), mtime: 1000 }],
  );
  assert.deepEqual(plan.next, ['1.2', '1.3']);
  assert.deepEqual(plan.parallelGroups, [['1.1'], ['1.2', '1.3'], ['2.1']]);
  const a12 = plan.achievements.find((a) => a.id === '1.2');
  assert.deepEqual([a12?.dependencies, a12?.priority, a12?.estimatedHours], [['1.1'], 'high', 3]);
  // 2.2 is not in parallel.json: it waits for everything before it.
  const later = await derive(
    idx('1.1', '1.2', '1.3', '2.1', '2.2'),
    [ok('11'), ok('12'), ok('13')],
    [{ path: 'parallel.json', text: JSON.stringify(parallel), mtime: 1000 }],
  );
  assert.deepEqual(later.next, ['2.1']);
});

test('parallel.json with a cycle or unknown dependency still yields a next, with warnings', async () => {
  const parallel = {
    achievements: [
      { achievement_id: '1.1', dependencies: ['1.2'] },
      { achievement_id: '1.2', dependencies: ['1.1'] },
      { achievement_id: '1.3', dependencies: ['9.9'] },
    ],
  };
  const plan = await derive(
    idx('1.1', '1.2', '1.3'),
    [],
    [{ path: 'parallel.json', text: JSON.stringify(parallel) }],
  );
  assert.deepEqual(plan.next, ['1.3']);
  assert.ok(plan.warnings.some((w) => /cycle among 1\.1, 1\.2/.test(w)));
  assert.ok(plan.warnings.some((w) => /dependency 9\.9/.test(w)));
  assert.deepEqual(plan.parallelGroups, [['1.3'], ['1.1', '1.2']]);
  const blocked = await derive(
    idx('1.1', '1.2'),
    [],
    [
      {
        path: 'parallel.json',
        text: JSON.stringify({ achievements: parallel.achievements.slice(0, 2) }),
      },
    ],
  );
  assert.deepEqual(blocked.next, ['1.1']);
});

test('invalid parallel.json is a warning and the plan falls back to index order', async () => {
  const plan = await derive(
    idx('1.1', '1.2'),
    [],
    [{ path: 'parallel.json', text: '{"achievements": [' }],
  );
  assert.deepEqual(plan.next, ['1.1']);
  assert.deepEqual(plan.parallelGroups, []);
  assert.ok(plan.warnings.some((w) => /parallel\.json is not valid JSON/.test(w)));
  assert.equal(plan.health.level, 'warning');
});

test('1.10 and 11.0 are different achievements', async () => {
  const plan = await derive(idx('1.1', '1.10', '11.0'), [
    { path: 'subplans/SUBPLAN_DEMO_110.md', text: '**Achievement**: 11.0 (Eleven)\n', mtime: 2000 },
    {
      path: 'execution/EXECUTION_TASK_DEMO_110_01.md',
      text: '**Achievement**: 1.10 (Ten)\n',
      mtime: 3000,
    },
    { path: 'execution/feedbacks/APPROVED_110.md', text: 'Approved.\n', mtime: 4000 },
    { path: 'execution/feedbacks/APPROVED_11.0.md', mtime: 4000 },
  ]);
  const a110 = plan.achievements.find((a) => a.id === '1.10');
  const a1100 = plan.achievements.find((a) => a.id === '11.0');
  assert.deepEqual(a110?.executions, ['EXECUTION_TASK_DEMO_110_01.md']);
  assert.deepEqual(a110?.approvals, ['APPROVED_110.md']);
  assert.deepEqual(a1100?.subplans, ['SUBPLAN_DEMO_110.md']);
  assert.deepEqual(a1100?.approvals, ['APPROVED_11.0.md']);
  // The undeclared APPROVED_110.md went to 1.10 (shortest major) and says so.
  assert.ok(
    plan.warnings.some((w) => w.startsWith('APPROVED_110.md is ambiguous between 1.10 and 11.0')),
  );
  assert.equal(plan.warnings.filter((w) => /ambiguous/.test(w)).length, 1);
});

test('a compact number resolves against the index: 110 is 11.0 when only 11.0 is indexed', async () => {
  const plan = await derive(idx('1.1', '11.0'), [ok('110')]);
  assert.equal(plan.achievements.find((a) => a.id === '11.0')?.status, 'approved');
  assert.equal(plan.achievements.length, 2);
  assert.deepEqual(plan.warnings, []);
});

test('files for achievements the index does not list are shown, unindexed', async () => {
  const plan = await derive(idx('1.1', '1.2'), [ok('11'), ok('12'), sub('31'), exe('31')]);
  const extra = plan.achievements.find((a) => a.id === '3.1');
  assert.deepEqual([extra?.indexed, extra?.title, extra?.status], [false, null, 'in_progress']);
  assert.deepEqual(plan.progress, { done: 2, total: 2 });
  assert.equal(plan.status, 'complete');
  assert.equal(plan.health.level, 'warning');
  assert.ok(plan.health.reasons.some((r) => /does not list: 3\.1/.test(r)));
});

test('index titles keep markdown and emoji; the plan name comes from the H1', async () => {
  const plan = await derive([['1.1', '**Setup** the `repo` 🚀✨']], []);
  assert.equal(plan.achievements[0]?.title, '**Setup** the `repo` 🚀✨');
  assert.equal(plan.name, 'Demo plan');
});

test('plan status: not started, ready, in progress, complete', async () => {
  assert.equal((await derive(idx('1.1', '1.2'), [])).status, 'not_started');
  assert.equal((await derive(idx('1.1', '1.2'), [sub('11')])).status, 'ready');
  assert.equal((await derive(idx('1.1', '1.2'), [sub('11'), exe('11')])).status, 'in_progress');
  assert.equal((await derive(idx('1.1', '1.2'), [ok('11')])).status, 'in_progress');
  const done = await derive(idx('1.1', '1.2'), [ok('11'), ok('12')]);
  assert.deepEqual(
    [done.status, done.next, done.last, done.health.level],
    ['complete', [], '1.2', 'good'],
  );
});

test('quick stats count subplans, executions, approvals and fixes', async () => {
  const plan = await derive(idx('1.1', '1.2', '1.3', '1.4'), [
    sub('11'),
    exe('11', '01', 3000),
    exe('11', '02', 4500),
    fix('11', 4000),
    ok('11', 5000),
    sub('12'),
    exe('12', '01', 3000),
    sub('13'),
    sub('14'),
    exe('14', '01', 3000),
    fix('14', 3500),
  ]);
  assert.deepEqual(plan.stats, {
    subplansCreated: 4,
    subplansWaiting: 1,
    executionsComplete: 3,
    executionsActive: 1,
    approvals: 1,
    fixes: 2,
    fixesOpen: 1,
  });
  assert.equal(plan.changedAt, 5000_000);
});

test('three or more attempts make the health a warning', async () => {
  const plan = await derive(idx('1.1'), [
    sub('11'),
    exe('11', '01'),
    exe('11', '02'),
    exe('11', '03'),
  ]);
  assert.equal(plan.health.level, 'warning');
  assert.ok(plan.health.reasons.some((r) => /3 execution attempts/.test(r)));
});

test('a plan folder without a PLAN file, and with an empty one, derives with warnings', async () => {
  const plansDir = join(root, 'noplan');
  const dir = writePlan(plansDir, 'ORPHAN', [sub('12'), ok('12')]);
  const plan = derivePlan(
    (await readPlanFolder(dir)) as NonNullable<Awaited<ReturnType<typeof readPlanFolder>>>,
  );
  assert.ok(plan.warnings.some((w) => /No PLAN_ORPHAN\.md/.test(w)));
  assert.deepEqual(
    plan.achievements.map((a) => [a.id, a.indexed, a.status]),
    [['1.2', false, 'approved']],
  );
  assert.deepEqual(plan.progress, { done: 0, total: 0 });
  const empty = writePlan(plansDir, 'EMPTY', [{ path: 'PLAN_EMPTY.md', text: '' }]);
  const emptyPlan = derivePlan(
    (await readPlanFolder(empty)) as NonNullable<Awaited<ReturnType<typeof readPlanFolder>>>,
  );
  assert.ok(emptyPlan.warnings.some((w) => /no "Achievement Index"/.test(w)));
  assert.equal(await readPlanFolder(join(plansDir, 'MISSING')), null);
});

test('discovery finds plan folders and skips hidden and unrelated ones; project roots resolve', async () => {
  const project = join(root, 'project');
  const plansDir = join(project, 'work-space', 'plans');
  writePlan(plansDir, 'B-PLAN', [{ path: 'PLAN_B-PLAN.md', text: planText('B', idx('1.1')) }]);
  writePlan(plansDir, 'A-PLAN', [sub('11')]);
  writePlan(plansDir, '.hidden', [{ path: 'PLAN_X.md' }]);
  mkdirSync(join(plansDir, 'notes'), { recursive: true });
  writeFileSync(join(plansDir, 'README.md'), 'hi');
  assert.equal(resolvePlansDir(project), plansDir);
  assert.equal(resolvePlansDir(plansDir), plansDir);
  assert.equal(projectRootOf(plansDir), project);
  assert.equal(projectRootOf(join(root, 'elsewhere')), join(root, 'elsewhere'));
  assert.deepEqual(await discoverPlans(plansDir), [
    join(plansDir, 'A-PLAN'),
    join(plansDir, 'B-PLAN'),
  ]);
  assert.deepEqual(await discoverPlans(join(root, 'nope')), []);
});

test('hours left read **Estimated Effort** from SUBPLAN headers; parallel.json estimates win', async () => {
  const effort = (num: string, id: string, text: string, mtime = 2000) => ({
    path: `subplans/SUBPLAN_DEMO_${num}.md`,
    text: subplanText('DEMO', id, `Step ${id}`, text),
    mtime,
  });
  const plan = await derive(idx('1.1', '1.2', '1.3', '2.1'), [
    effort('11', '1.1', '1 hour'),
    ok('11'),
    effort('12', '1.2', '2-3 hours'),
    effort('13', '1.3', '3-4 hours (pipeline execution + monitoring)'),
  ]);
  const hours = Object.fromEntries(plan.achievements.map((a) => [a.id, a.estimatedHours]));
  assert.deepEqual(hours, { '1.1': 1, '1.2': 2.5, '1.3': 3.5, '2.1': null });
  // 1.1 is approved: 1.2 and 1.3 are left; 2.1 has no SUBPLAN yet, so no estimate.
  assert.equal(plan.health.hoursLeft, 6);
  assert.equal(plan.health.unestimated, 1);

  const parallel = {
    achievements: [
      { achievement_id: '1.2', dependencies: [], estimated_hours: 5 },
      { achievement_id: '1.3', dependencies: [] },
    ],
  };
  const both = await derive(
    idx('1.2', '1.3'),
    [effort('12', '1.2', '2 hours'), effort('13', '1.3', '30 minutes')],
    [{ path: 'parallel.json', text: JSON.stringify(parallel), mtime: 1000 }],
  );
  const a12 = both.achievements.find((a) => a.id === '1.2');
  const a13 = both.achievements.find((a) => a.id === '1.3');
  assert.deepEqual([a12?.estimatedHours, a13?.estimatedHours], [5, 0.5]);
  assert.equal(both.health.hoursLeft, 5.5);
  assert.deepEqual(both.savings, { sequentialHours: 5.5, parallelHours: 5, savedHours: 0.5 });
});
