import { expect, openLive, test } from './fixtures.ts';

/**
 * The Plans view on folders shaped like the real producer's: a plan in a
 * grouping folder listing `**Achievement N.N**:` under "Desirable
 * Achievements", a top-level plan with `- ✅ Achievement` lines, and a stray
 * PLAN file in the grouping folder, which is no plan.
 */
test('the Plans view shows groupings, statuses, progress and next steps of real-shaped plans', async ({
  page,
  server,
}) => {
  const obs = 'work-space/plans/a_real-use-cases/OBS-VALIDATION';
  await server.writeFile(
    `${obs}/PLAN_OBS-VALIDATION.md`,
    '# PLAN: Observability Validation\n\n## 🎯 Desirable Achievements\n\n**Achievement 0.1**: Baseline Run\n\n**Achievement 2.1**: Metrics Validated\n',
  );
  await server.writeFile(`${obs}/execution/EXECUTION_TASK_OBS-VALIDATION_01_01.md`, '# e\n');
  await server.writeFile(
    `${obs}/execution/feedbacks/APPROVED_01.md`,
    '**Review Date**: 2025-11-12\n',
  );
  await server.writeFile('work-space/plans/a_real-use-cases/PLAN_STRAY.md', '# PLAN: Stray\n');
  const cli = 'work-space/plans/DASHBOARD-CLI';
  await server.writeFile(
    `${cli}/PLAN_DASHBOARD-CLI.md`,
    '# PLAN: Dashboard CLI\n\n## 📋 Achievement Index\n\n- ✅ Achievement 0.1: Framework\n- Achievement 0.2: Discovery\n',
  );
  await server.writeFile(`${cli}/execution/feedbacks/APPROVED_01.md`, 'ok\n');
  await server.writeFile(`${cli}/execution/feedbacks/FIX_02.md`, 'fix\n');
  await server.writeFile(`${cli}/subplans/SUBPLAN_DASHBOARD-CLI_02.md`, '# s\n');

  await openLive(page, server.url);
  const obsRow = page.locator('li[data-plan="OBS-VALIDATION"]');
  await expect(obsRow.locator('.plan-group')).toHaveText('real use cases');
  await expect(obsRow).toContainText('1/2 approved');
  await expect(obsRow).toContainText('next: 2.1');
  await expect(obsRow.locator('.badge')).toHaveText('in progress');
  const cliRow = page.locator('li[data-plan="DASHBOARD-CLI"]');
  await expect(cliRow).toContainText('1/2 approved');
  await expect(cliRow.locator('.badge')).toContainText('needs attention');
  await expect(cliRow.locator('.plan-group')).toHaveCount(0);
  await expect(page.locator('li[data-plan="a_real-use-cases"]')).toHaveCount(0);
  await expect(page.locator('li.plan-row')).toHaveCount(2);
});

test('the plan page shows the health score, work left in hours and what parallel groups save', async ({
  page,
  server,
}) => {
  const dir = 'work-space/plans/HOURS';
  await server.writeFile(
    `${dir}/PLAN_HOURS.md`,
    '# PLAN: Hours\n\n## Achievement Index\n\n- Achievement 1.1: Base\n- Achievement 1.2: Left\n- Achievement 1.3: Right\n- Achievement 2.1: Join\n',
  );
  await server.writeFile(
    `${dir}/parallel.json`,
    JSON.stringify({
      achievements: [
        { achievement_id: '1.1', dependencies: [], estimated_hours: 2 },
        { achievement_id: '1.2', dependencies: ['1.1'], estimated_hours: 3 },
        { achievement_id: '1.3', dependencies: ['1.1'], estimated_hours: 4.5 },
        { achievement_id: '2.1', dependencies: ['1.2', '1.3'] },
      ],
    }),
  );
  await server.writeFile(`${dir}/execution/feedbacks/APPROVED_11.md`, 'ok\n');
  await openLive(page, server.url);
  await expect(page.locator('li[data-plan="HOURS"]')).toBeVisible();
  await page.goto(`${server.url}/#/plan/HOURS`);
  // 1 of 4 approved (10 of 40) + no open FIX (25) + no idle execution (20) + a clean folder (15).
  await expect(page.locator('.badge.health-good')).toHaveText('health: good · 70/100');
  await expect(page.getByTestId('plan-work')).toHaveText(
    '7.5 h of work left (+1 unestimated) · parallel groups save 3 h (7.5 h → 4.5 h)',
  );
});
