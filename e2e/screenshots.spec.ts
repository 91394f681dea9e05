import { writePlan, writeRichSession } from './data.ts';
import { expect, openLive, test } from './fixtures.ts';
import { phaseDoc } from './server.ts';

const SHOTS = 'test-results/screenshots';

test('screenshots of the overview, a session and a plan (artifacts)', async ({
  page,
  server,
}, testInfo) => {
  await writeRichSession(server, 'weather-app');
  await server.writePhase(
    'todo-api',
    phaseDoc('todo-api', { current_phase: 'Deploy', status: 'completed' }),
  );
  await server.writePhase(
    'chat-bot',
    phaseDoc('chat-bot', { current_phase: 'Test', status: 'failed' }),
  );
  await server.writePhase(
    'scout-only',
    phaseDoc('scout-only', { current_phase: 'scout', phase_number: '?/7' }),
  );
  await writePlan(server, 'DEMO-PLAN');

  for (const width of [1280, 700]) {
    await page.setViewportSize({ width, height: 900 });
    await openLive(page, server.url);
    await expect(page.locator('li[data-session]')).toHaveCount(4);
    await expect(page.locator('li[data-plan="DEMO-PLAN"]')).toBeVisible();
    const overview = `${SHOTS}/overview-${width}.png`;
    await page.screenshot({ path: overview, fullPage: true });
    await testInfo.attach(`overview-${width}`, { path: overview, contentType: 'image/png' });

    await page.goto(`${server.url}/#/session/weather-app`);
    await expect(page.locator('[data-panel="tokens"] canvas').first()).toBeVisible();
    await expect(page.locator('[data-panel="tests"] table')).toBeVisible();
    await expect(page.locator('.log-row').first()).toBeVisible();
    const session = `${SHOTS}/session-${width}.png`;
    await page.screenshot({ path: session, fullPage: true });
    await testInfo.attach(`session-${width}`, { path: session, contentType: 'image/png' });
  }

  await page.goto(`${server.url}/#/plan/DEMO-PLAN`);
  await expect(page.locator('table.achievements')).toBeVisible();
  await expect(page.locator('tr[data-achievement="1.10"]')).toBeVisible();
  // Inline markdown in titles renders as elements, not as asterisks (and never as HTML).
  await expect(page.locator('tr[data-achievement="1.2"] strong')).toHaveText('Store');
  await expect(page.locator('tr[data-achievement="1.2"] .badge')).toHaveText('fix pending');
  const plan = `${SHOTS}/plan.png`;
  await page.screenshot({ path: plan, fullPage: true });
  await testInfo.attach('plan', { path: plan, contentType: 'image/png' });
});
