/// <reference lib="dom" />
import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, openLive, test } from './fixtures.ts';
import { phaseDoc, type ServerProcess } from './server.ts';

async function appendEvents(server: ServerProcess, id: string, from: number, count: number) {
  const lines = Array.from({ length: count }, (_, i) =>
    JSON.stringify({
      type: 'log_line',
      session_id: id,
      timestamp: new Date().toISOString(),
      sequence: from + i,
      data: { line: `line ${from + i}` },
    }),
  );
  await appendFile(
    join(server.root, 'logs', 'events', id, 'events.jsonl'),
    `${lines.join('\n')}\n`,
  );
}

test('the live log follows the tail, pauses when scrolled up, jumps back, renders only visible rows', async ({
  page,
  server,
}) => {
  await server.writePhase('logger', phaseDoc('logger'));
  await server.writeFile('logs/events/logger/events.jsonl', '');
  await openLive(page, server.url, '#/session/logger');
  const box = page.locator('.log-box');

  await appendEvents(server, 'logger', 1, 400);
  await expect(page.locator('.log-row', { hasText: 'line 400' })).toBeVisible();
  await expect(box).toHaveAttribute('data-following', 'true');
  // Virtualised: a few dozen rows in the DOM for hundreds of lines.
  expect(await page.locator('.log-row').count()).toBeLessThan(60);

  await box.evaluate((el) => {
    el.scrollTop = 0;
  });
  await expect(box).toHaveAttribute('data-following', 'false');
  const jump = page.getByRole('button', { name: /Jump to latest/ });
  await expect(jump).toBeVisible();
  await appendEvents(server, 'logger', 401, 50);
  await expect(jump).toContainText(/\(\d+ new\)/);
  // Paused: the reader's position holds while lines arrive.
  expect(await box.evaluate((el) => el.scrollTop)).toBe(0);
  await expect(page.locator('.log-row', { hasText: /^.*line 1$/ })).toBeVisible();

  await jump.click();
  await expect(box).toHaveAttribute('data-following', 'true');
  await expect(page.locator('.log-row', { hasText: 'line 450' })).toBeVisible();
  await appendEvents(server, 'logger', 451, 5);
  await expect(page.locator('.log-row', { hasText: 'line 455' })).toBeVisible();
  await expect(jump).toHaveCount(0);
});
