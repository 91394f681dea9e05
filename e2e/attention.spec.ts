/// <reference lib="dom" />
import type { TimelineEntry } from '../src/shared/model.ts';
import { expect, guardPage, openLive, test } from './fixtures.ts';
import { phaseDoc } from './server.ts';

test('the attention queue comes first with its reasons; acknowledging takes an alert out and into the history', async ({
  page,
  server,
}) => {
  const problems: string[] = [];
  guardPage(page, problems);
  // Per-project thresholds: this project's producer counts as gone after a second of silence.
  await server.writeFile(
    'quiet/.livestream.json',
    JSON.stringify({ attention: { producerGoneMs: 1000 } }),
  );
  await server.writePhase('quiet', phaseDoc('quiet'));
  await server.writePhase(
    'broken',
    phaseDoc('broken', { status: 'failed', current_phase: 'Test' }),
  );
  await openLive(page, server.url);

  const queue = page.locator('.attention-queue');
  await expect(queue.locator('[data-kind="failed"]')).toContainText('Failed in Test (failed)');
  await expect(queue.locator('[data-kind="producer_gone"]')).toContainText(
    'Nothing written for over 1 s while Builder is running',
  );
  // The queue is above the session list.
  const order = await page.evaluate(() => {
    const q = document.querySelector('.attention-queue');
    const list = document.querySelector('.session-list');
    return q && list ? q.compareDocumentPosition(list) & Node.DOCUMENT_POSITION_FOLLOWING : 0;
  });
  expect(order).toBeTruthy();

  await queue.locator('[data-kind="failed"]').getByRole('button', { name: 'Acknowledge' }).click();
  await expect(queue.locator('[data-kind="failed"]')).toHaveCount(0);
  await queue
    .locator('[data-kind="producer_gone"]')
    .getByRole('button', { name: 'Snooze 1 h' })
    .click();
  await expect(page.locator('.attention-empty')).toBeVisible();

  await page.goto(`${server.url}/#/session/broken`);
  const history = page.locator('.alert-history');
  await expect(history.locator('[data-event="acknowledged"]')).toContainText('by web');
  await expect(history.locator('[data-event="raised"]')).toContainText('Failed in Test');
  expect(problems).toEqual([]);
});

test('a long queue shows its most urgent five and folds the rest behind "Show all"', async ({
  page,
  server,
}) => {
  const problems: string[] = [];
  guardPage(page, problems);
  for (let i = 1; i <= 7; i++) {
    await server.writePhase(
      `broken-${i}`,
      phaseDoc(`broken-${i}`, { status: 'failed', current_phase: 'Test' }),
    );
  }
  await openLive(page, server.url);
  const queue = page.locator('.attention-queue');
  await expect(queue.locator('h2')).toHaveText('Needs attention (7)');
  await expect(queue.locator('.alert')).toHaveCount(5);
  await queue.getByRole('button', { name: 'Show all 7' }).click();
  await expect(queue.locator('.alert')).toHaveCount(7);
  await queue.getByRole('button', { name: 'Show the first 5' }).click();
  await expect(queue.locator('.alert')).toHaveCount(5);
  expect(problems).toEqual([]);
});

test('the replay slider rebuilds a past moment, and the URL carries it', async ({
  page,
  server,
}) => {
  const phases = ['Scout', 'Architect', 'Builder'];
  await openLive(page, server.url, '#/session/replayed');
  for (const [i, phase] of phases.entries()) {
    await server.writePhase(
      'replayed',
      phaseDoc('replayed', { current_phase: phase, phase_number: `${i + 2}/8` }),
    );
    await expect(page.locator('.phase-current')).toHaveText(phase);
  }
  const { timeline } = (await (
    await page.request.get(`${server.url}/api/phases/replayed`)
  ).json()) as { timeline: TimelineEntry[] };
  const architect = timeline.find((t) => t.phase === 'Architect');
  expect(architect).toBeTruthy();
  const at = Math.round((architect?.startedAt ?? 0) + 1);

  const requests: string[] = [];
  page.on('request', (r) => requests.push(new URL(r.url()).pathname));
  await page.goto(`${server.url}/#/session/replayed?at=${at}`);
  const frame = page.locator('.replay-frame');
  await expect(frame).toHaveAttribute('data-replay-phase', 'Architect');
  await expect(frame.locator('.replay-timeline li')).toHaveCount(2);
  // The slider's coarse timeline comes from the summary; frames come one by one, never the whole history.
  await expect(page.locator('.replay-strip .replay-slice')).toHaveCount(200);
  await expect(page.locator('.replay-count')).toHaveText('3 phase changes');

  // Scrub to the end: the latest phase, and the URL follows.
  const slider = page.locator('.replay-slider');
  await slider.focus();
  await page.keyboard.press('End');
  await expect(frame).toHaveAttribute('data-replay-phase', 'Builder');
  const end = Number(await page.locator('.replay-at').getAttribute('data-at'));
  await expect.poll(() => page.url()).toContain(`?at=${end}`);

  // Playback from the start reaches the end by itself at 60×.
  await page.keyboard.press('Home');
  await expect(frame).toHaveAttribute('data-replay-phase', 'Scout');
  await page.locator('.replay-speed').selectOption('60');
  await page.getByRole('button', { name: 'Play' }).click();
  await expect(frame).toHaveAttribute('data-replay-phase', 'Builder', { timeout: 15_000 });
  expect(requests).toContain('/api/history/replayed/summary');
  expect(requests).not.toContain('/api/history/replayed');
  expect(requests.filter((p) => p === '/api/status/replayed').length).toBeGreaterThan(2);
});
