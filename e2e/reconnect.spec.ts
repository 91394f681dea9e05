/// <reference lib="dom" />
import { expect, openLive, test } from './fixtures.ts';
import { phaseDoc } from './server.ts';

test('server stopped and restarted on the same port: reconnecting, then catches up without reload or duplicates', async ({
  page,
  server,
}) => {
  await server.writePhase(
    'weather-app',
    phaseDoc('weather-app', { current_phase: 'Scout', phase_number: '2/7' }),
  );
  await server.writePhase('other', phaseDoc('other'));
  await openLive(page, server.url, '#/session/weather-app');
  await expect(page.locator('.phase-current')).toHaveText('Scout');
  await page.evaluate(() => {
    (window as unknown as { marker: string }).marker = 'same page';
  });

  await server.stop();
  const conn = page.locator('.conn');
  await expect(conn).toHaveAttribute('data-status', 'reconnecting');
  // Between attempts it counts down to the next one.
  await expect(conn).toContainText(/Reconnecting in \d+ s \(attempt \d+\)/);
  await expect(page.locator('.banner')).toBeVisible();

  // Progress made while the dashboard could not hear about it.
  await server.writePhase(
    'weather-app',
    phaseDoc('weather-app', { current_phase: 'Architect', phase_number: '3/7' }),
  );
  await server.launch(server.port);

  await expect(conn).toHaveAttribute('data-status', 'live', { timeout: 30_000 });
  await expect(page.locator('.phase-current')).toHaveText('Architect');
  await expect(page.locator('.banner')).toHaveCount(0);
  expect(await page.evaluate(() => (window as unknown as { marker?: string }).marker)).toBe(
    'same page',
  );

  // No duplicated log lines: every rendered line number is unique.
  const numbers = await page
    .locator('.log-row')
    .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-n')));
  expect(new Set(numbers).size).toBe(numbers.length);

  // The overview holds each session exactly once.
  await page.locator('a.back').click();
  await expect(page.locator('li[data-session="weather-app"]')).toHaveCount(1);
  await expect(page.locator('li[data-session="other"]')).toHaveCount(1);
  await expect(page.locator('li[data-session="weather-app"] .phase-name')).toHaveText('Architect');
});
