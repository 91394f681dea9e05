import { readFile } from 'node:fs/promises';
import { writeRichSession } from './data.ts';
import { expect, openLive, test } from './fixtures.ts';

test('a session exports as JSON: status, timeline and metrics', async ({ page, server }) => {
  await writeRichSession(server, 'export-me');
  await openLive(page, server.url, '#/session/export-me');
  await expect(page.locator('[data-panel="tokens"] canvas').first()).toBeVisible();
  // The two test-result files are read on their own schedule: export once both are in.
  await expect(page.locator('[data-panel="tests"] tbody tr')).toHaveCount(2);
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: /Export JSON/ }).click(),
  ]);
  expect(download.suggestedFilename()).toBe('livestream-export-me.json');
  const path = await download.path();
  const doc = JSON.parse(await readFile(path, 'utf8')) as {
    status: { id: string; currentPhase: string };
    timeline: unknown[];
    metrics: { token_usage: { data: { total: number } }; test_iterations: { data: unknown[] } };
  };
  expect(doc.status.id).toBe('export-me');
  expect(doc.status.currentPhase).toBe('Test');
  expect(Array.isArray(doc.timeline)).toBe(true);
  expect(doc.metrics.token_usage.data.total).toBeGreaterThan(0);
  expect(doc.metrics.test_iterations.data).toHaveLength(2);
});
