import { expect, openLive, test } from './fixtures.ts';
import { phaseDoc } from './server.ts';

test('metric panels refresh every 5 s as a fallback, never two refreshes at once', async ({
  page,
  server,
}) => {
  test.setTimeout(60_000);
  await server.writePhase('slow', phaseDoc('slow'));
  let inFlight = 0;
  let maxInFlight = 0;
  let requests = 0;
  // Every metrics answer takes 6 s: longer than the refresh period.
  await page.route('**/api/metrics/**', async (route) => {
    requests++;
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const response = await route.fetch();
    await new Promise((r) => setTimeout(r, 6_000));
    await route.fulfill({ response });
    inFlight--;
  });
  await openLive(page, server.url, '#/session/slow');
  // Status pushes also trigger a refresh; the guard must hold them too.
  for (const phase of ['Scout', 'Architect', 'Builder']) {
    await server.writePhase('slow', phaseDoc('slow', { current_phase: phase }));
    await expect(page.locator('.phase-current')).toHaveText(phase);
  }
  await expect
    .poll(() => requests, { timeout: 20_000, intervals: [500] })
    .toBeGreaterThanOrEqual(3);
  expect(maxInFlight).toBe(1);
  await expect(page.locator('[data-panel="tokens"] [data-testid="reason"]')).toBeVisible();
});

test('panel freshness turns yellow then red, and a running session with no update for 5 minutes is stale', async ({
  page,
  server,
}) => {
  await server.writePhase('idle', phaseDoc('idle'));
  await page.clock.install();
  await openLive(page, server.url, '#/session/idle');
  const updated = page.locator('.card-head .updated').first();
  await expect(updated).toHaveAttribute('data-freshness', 'fresh');
  await expect(page.locator('.badge.stale')).toHaveCount(0);
  // Cut the fallback refresh off so only time moves.
  await page.route('**/api/metrics/**', (route) => route.abort());
  await page.clock.fastForward(10_000);
  await expect(updated).toHaveAttribute('data-freshness', 'aging');
  await page.clock.fastForward(60_000);
  await expect(updated).toHaveAttribute('data-freshness', 'old');
  await page.clock.fastForward(5 * 60_000);
  await expect(page.locator('.badge.stale')).toBeVisible();
});
