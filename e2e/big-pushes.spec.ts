import { expect, openLive, test } from './fixtures.ts';

/**
 * Issue 14.2 in the browser: ten pushes of about 1 MB each used to close the
 * page's WebSocket with 4008 and make it reconnect in a loop. The page now
 * stays on one connection, lists every session, and the session page links
 * to the extra fields it does not show in full.
 */
test('ten 1 MB pushes: the page stays connected and the extras are one click away', async ({
  page,
  server,
}) => {
  let sockets = 0;
  page.on('websocket', () => {
    sockets++;
  });
  await openLive(page, server.url);
  for (let i = 0; i < 10; i++) {
    const body: Record<string, unknown> = {
      session_id: `big-${i}`,
      current_phase: 'Builder',
      status: 'building',
    };
    for (let k = 0; k < 1000; k++) body[`field_${k}`] = `${k}:${'x'.repeat(985)}`;
    const response = await fetch(`${server.url}/api/phase-update`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(200);
  }
  for (let i = 0; i < 10; i++)
    await expect(page.locator(`li[data-session="big-${i}"]`)).toBeVisible();
  await expect(page.locator('.conn')).toHaveAttribute('data-status', 'live');
  expect(sockets).toBe(1);

  await page.locator('li[data-session="big-3"] a.session-name').click();
  const link = page.getByRole('link', { name: 'all fields (JSON)' });
  await expect(page.locator('.info')).toContainText(/\d+ fields not shown in full/);
  await expect(link).toHaveAttribute('href', '/api/sessions/big-3/extras');
  const extras = (await (
    await page.request.get(`${server.url}/api/sessions/big-3/extras`)
  ).json()) as {
    extras: Record<string, string>;
  };
  expect(Object.keys(extras.extras)).toHaveLength(1000);
  await expect(page.locator('.conn')).toHaveAttribute('data-status', 'live');
  expect(sockets).toBe(1);
});
