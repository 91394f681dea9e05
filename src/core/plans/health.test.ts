import assert from 'node:assert/strict';
import { test } from 'node:test';
import { derivePlan } from './derive.ts';
import { IDLE_MS } from './health.ts';
import type { PlanFile, PlanInput } from './types.ts';

const DAY = 24 * 3600 * 1000;
const NOW = Date.parse('2026-03-01T00:00:00Z');

function input(
  files: PlanFile[],
  parallel: unknown = null,
  readAt: number | null = NOW,
): PlanInput {
  return {
    id: 'DEMO',
    path: '/plans/DEMO',
    planFile: 'PLAN_DEMO.md',
    planText: [
      '# PLAN: Demo',
      '## Achievement Index',
      '- Achievement 1.1: A',
      '- Achievement 1.2: B',
      '- Achievement 1.3: C',
      '- Achievement 2.1: D',
    ].join('\n'),
    planMtimeMs: NOW - 30 * DAY,
    parallelText: parallel === null ? null : JSON.stringify(parallel),
    parallelMtimeMs: parallel === null ? null : NOW - 30 * DAY,
    files,
    readAt,
  };
}
const f = (dir: PlanFile['dir'], name: string, ageDays: number): PlanFile => ({
  dir,
  name,
  mtimeMs: NOW - ageDays * DAY,
});

test('a clean plan scores its completion plus every other component', () => {
  const plan = derivePlan(
    input([f('subplans', 'SUBPLAN_DEMO_11.md', 9), f('feedbacks', 'APPROVED_11.md', 8)]),
  );
  // 1 of 4 approved: 10 of 40 completion points, plus 25 + 20 + 15.
  assert.equal(plan.health.score, 70);
  assert.deepEqual(plan.health.idleExecutions, []);
  assert.equal(plan.health.level, 'good');
});

test('an execution with no verdict for over a week is idle; a fresh one is not', () => {
  const plan = derivePlan(
    input([
      f('execution', 'EXECUTION_TASK_DEMO_11_01.md', 8),
      f('execution', 'EXECUTION_TASK_DEMO_12_01.md', 1),
      f('execution', 'EXECUTION_TASK_DEMO_13_01.md', 10),
      f('feedbacks', 'APPROVED_13.md', 9),
    ]),
  );
  assert.deepEqual(plan.health.idleExecutions, ['EXECUTION_TASK_DEMO_11_01.md']);
  assert.equal(plan.health.score, 10 + 25 + 10 + 15);
  assert.equal(plan.health.level, 'warning');
  assert.match(plan.health.reasons.join('\n'), /1 idle execution .*EXECUTION_TASK_DEMO_11_01\.md/);
  // Read a day earlier, the same execution was not idle yet.
  const earlier = derivePlan(
    input([f('execution', 'EXECUTION_TASK_DEMO_11_01.md', 8)], null, NOW - 8 * DAY + IDLE_MS - 1),
  );
  assert.deepEqual(earlier.health.idleExecutions, []);
  // Without a read time nothing is called idle (pure derivation has no clock).
  assert.deepEqual(
    derivePlan(input([f('execution', 'EXECUTION_TASK_DEMO_11_01.md', 80)], null, null)).health
      .idleExecutions,
    [],
  );
});

test('an open FIX costs 25 points; hours left sum the estimates of unfinished work', () => {
  const parallel = {
    achievements: [
      { achievement_id: '1.1', dependencies: [], estimated_hours: 2 },
      { achievement_id: '1.2', dependencies: ['1.1'], estimated_hours: 3 },
      { achievement_id: '1.3', dependencies: ['1.1'], estimated_hours: 4.5 },
      { achievement_id: '2.1', dependencies: ['1.2', '1.3'] },
    ],
  };
  const plan = derivePlan(
    input([f('feedbacks', 'APPROVED_11.md', 5), f('feedbacks', 'FIX_12.md', 2)], parallel),
  );
  assert.equal(plan.health.score, 10 + 0 + 20 + 15);
  assert.equal(plan.health.hoursLeft, 7.5, '1.2 and 1.3; 1.1 is done');
  assert.equal(plan.health.unestimated, 1, '2.1 has no estimate');
  // 1.2 and 1.3 form one group: 7.5 h one after the other, 4.5 h side by side.
  assert.deepEqual(plan.savings, { sequentialHours: 7.5, parallelHours: 4.5, savedHours: 3 });
});

test('no parallel.json, or groups of one, save nothing; no estimates leave hours unknown', () => {
  const plain = derivePlan(input([]));
  assert.equal(plain.savings, null);
  assert.equal(plain.health.hoursLeft, null);
  assert.equal(plain.health.unestimated, 4);
  const chain = derivePlan(
    input([], {
      achievements: [
        { achievement_id: '1.1', dependencies: [], estimated_hours: 1 },
        { achievement_id: '1.2', dependencies: ['1.1'], estimated_hours: 1 },
      ],
    }),
  );
  assert.equal(chain.savings, null);
  assert.equal(chain.health.hoursLeft, 2);
});
