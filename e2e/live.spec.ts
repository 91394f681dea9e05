/// <reference lib="dom" />
import { expect, guardPage, openLive, test } from './fixtures.ts';
import { phaseDoc } from './server.ts';

test('a phase file written on disk appears on the page within 1 s, without reload', async ({
  page,
  server,
}) => {
  const problems: string[] = [];
  guardPage(page, problems);
  await openLive(page, server.url);
  const navigations: string[] = [];
  page.on('framenavigated', (f) => navigations.push(f.url()));

  await server.writePhase(
    'weather-app',
    phaseDoc('weather-app', { current_phase: 'Scout', phase_number: '2/7' }),
  );
  const row = page.locator('li[data-session="weather-app"]');
  await expect(row).toBeVisible({ timeout: 1000 });
  await expect(row.locator('.phase-name')).toHaveText('Scout', { timeout: 1000 });

  await server.writePhase(
    'weather-app',
    phaseDoc('weather-app', {
      current_phase: 'Test',
      phase_number: '4.5/8',
      status: 'testing',
      test_iteration: 2,
    }),
  );
  await expect(row.locator('.phase-name')).toHaveText('Test', { timeout: 1000 });
  await expect(row).toContainText('test iteration 2');
  await expect(row).toContainText('phase 4.5/8');

  // The session page follows the same file live too.
  await row.locator('a.session-name').click();
  await expect(page.locator('.phase-current')).toHaveText('Test');
  await server.writePhase(
    'weather-app',
    phaseDoc('weather-app', { current_phase: 'Screenshot', phase_number: '6/8' }),
  );
  await expect(page.locator('.phase-current')).toHaveText('Screenshot', { timeout: 1000 });
  await expect(page.locator('.step[data-state="current"] .step-name')).toHaveText('Screenshot');

  expect(navigations.filter((u) => !u.includes('#'))).toEqual([]);
  expect(problems).toEqual([]);
});

test('a session completing changes the title and fires livestream:session-finished', async ({
  page,
  server,
}) => {
  await server.writePhase(
    'todo-api',
    phaseDoc('todo-api', { current_phase: 'Deploy', phase_number: '6/7' }),
  );
  await openLive(page, server.url, '#/session/todo-api');
  await expect(page.locator('.phase-current')).toHaveText('Deploy');
  await expect(page).toHaveTitle(/todo-api/);
  await page.evaluate(() => {
    const w = window as unknown as { finished: unknown[] };
    w.finished = [];
    window.addEventListener('livestream:session-finished', (e) =>
      w.finished.push((e as CustomEvent).detail),
    );
  });

  await server.writePhase(
    'todo-api',
    phaseDoc('todo-api', { current_phase: 'Deploy', phase_number: '7/7', status: 'completed' }),
  );
  await expect(page).toHaveTitle(/completed/);
  await expect(page.locator('.session-page')).toHaveAttribute('data-state', 'completed');
  const finished = await page.evaluate(
    () => (window as unknown as { finished: unknown[] }).finished,
  );
  expect(finished).toEqual([{ id: 'todo-api', state: 'completed' }]);
});

test('a failure is announced once, from the overview as well', async ({ page, server }) => {
  await server.writePhase('chat-bot', phaseDoc('chat-bot'));
  await openLive(page, server.url);
  await expect(page.locator('li[data-session="chat-bot"]')).toBeVisible();
  await page.evaluate(() => {
    const w = window as unknown as { finished: unknown[] };
    w.finished = [];
    window.addEventListener('livestream:session-finished', (e) =>
      w.finished.push((e as CustomEvent).detail),
    );
  });
  await server.writePhase('chat-bot', phaseDoc('chat-bot', { status: 'failed' }));
  await expect(page).toHaveTitle(/chat-bot failed/);
  // Later changes to the collection do not announce it again.
  await server.writePhase('next-one', phaseDoc('next-one'));
  await expect(page.locator('li[data-session="next-one"]')).toBeVisible();
  await server.writePhase('next-one', phaseDoc('next-one', { current_phase: 'Test' }));
  await expect(page.locator('li[data-session="next-one"] .phase-name')).toHaveText('Test');
  const finished = await page.evaluate(
    () => (window as unknown as { finished: unknown[] }).finished,
  );
  expect(finished).toEqual([{ id: 'chat-bot', state: 'failed' }]);
});
