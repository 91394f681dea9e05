/// <reference lib="dom" />
import { randomUUID } from 'node:crypto';
import { parsePhaseDocument } from '../src/core/session/document.ts';
import type { ForwardAck } from '../src/shared/forward.ts';
import { expect, guardPage, openLive, test } from './fixtures.ts';
import { phaseDoc } from './server.ts';

/** What `livestream forward` on `host` sends when its `weather-app` writes `over`. */
async function forwardFrom(url: string, host: string, over: Record<string, unknown>) {
  const raw = phaseDoc('weather-app', over);
  const parsed = parsePhaseDocument(raw);
  if (!parsed.ok) throw new Error(parsed.message);
  const event = {
    source: 'session',
    event: {
      kind: 'document',
      value: {
        path: '/home/dev/weather-app/.context-foundry/current-phase.json',
        projectDir: '/home/dev/weather-app',
        source: 'file',
        doc: parsed.doc,
        raw,
        at: Date.now(),
      },
    },
  };
  const response = await fetch(`${url}/api/forward`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      forwarder: randomUUID(),
      host,
      dropped: 0,
      events: [{ seq: 1, event }],
    }),
  });
  const ack = (await response.json()) as ForwardAck;
  expect(ack.applied).toBe(1);
}

test('two machines building the same project are two rows, each with its machine, filterable by machine', async ({
  page,
  server,
}) => {
  const problems: string[] = [];
  guardPage(page, problems);
  await forwardFrom(server.url, 'ci-1', { progress_detail: 'on the first runner' });
  await forwardFrom(server.url, 'ci-2', {
    current_phase: 'Test',
    phase_number: '6/7',
    progress_detail: 'on the second runner',
  });

  await openLive(page, server.url);
  const rows = page.locator('li.session-row');
  const one = page.locator('li[data-session="weather-app@ci-1"]');
  const two = page.locator('li[data-session="weather-app@ci-2"]');
  await expect(rows).toHaveCount(2);
  await expect(one.locator('.machine')).toHaveText('ci-1');
  await expect(two.locator('.machine')).toHaveText('ci-2');
  await expect(two).toContainText('on the second runner');

  // One project name for both: the project filter keeps both, the machine filter splits them.
  await page.getByLabel('Filter by project').selectOption('weather-app');
  await expect(rows).toHaveCount(2);
  const machine = page.getByLabel('Filter by machine');
  await expect(machine.locator('option')).toHaveText(['all machines', 'ci-1', 'ci-2']);
  await machine.selectOption('ci-2');
  await expect(rows).toHaveCount(1);
  await expect(two).toBeVisible();

  // A third machine joins live: it is offered at once; the chosen filter holds.
  await forwardFrom(server.url, 'ci-3', { progress_detail: 'on the third runner' });
  await expect(machine.locator('option')).toHaveText(['all machines', 'ci-1', 'ci-2', 'ci-3']);
  await expect(rows).toHaveCount(1);
  await machine.selectOption('');
  await expect(rows).toHaveCount(3);

  // The session page names the machine too.
  await one.locator('a.session-name').click();
  await expect(page.locator('dd.machine')).toHaveText('ci-1');
  expect(problems).toEqual([]);
});
