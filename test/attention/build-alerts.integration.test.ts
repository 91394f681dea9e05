import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import { type App, createApp } from '../../src/app.ts';
import { runDemo } from '../../src/demo/index.ts';
import type { AlertEventBody } from '../../src/notify/event.ts';
import type { Alert, AlertEvent } from '../../src/shared/attention.ts';
import { testConfig } from '../helpers/app-config.ts';
import { webhookReceiver } from '../helpers/webhook-receiver.ts';

const logger = pino({ level: 'silent' });
const temps: string[] = [];
after(async () => {
  for (const dir of temps) await rm(dir, { recursive: true, force: true });
});

async function setup(attention: Record<string, unknown>) {
  const dir = await mkdtemp(join(tmpdir(), 'ls-attention-'));
  temps.push(dir);
  const root = join(dir, 'root');
  await mkdir(root);
  const configPath = join(dir, 'attention.json');
  await writeFile(configPath, JSON.stringify({ attention }));
  const hook = await webhookReceiver();
  const config = testConfig([root], join(dir, 'history.db'), {
    webhooks: [hook.url],
    attentionConfigPath: configPath,
  });
  return { root, config, hook };
}

const kindIs = (kind: string) => (r: { body: unknown }) =>
  (r.body as AlertEventBody).alert?.kind === kind;

async function api<T>(app: App, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${app.url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  assert.ok(res.ok, `${path}: ${res.status} ${await res.clone().text()}`);
  return (await res.json()) as T;
}

describe('attention on real builds', () => {
  it('a test loop reaches the webhook once, with its reason; ack leaves the queue; the producer going quiet is noticed', async () => {
    const { root, config, hook } = await setup({ producerGoneMs: 1500 });
    const app = await createApp({ config, logger });
    try {
      await runDemo({ root, scenario: 'test-loop', rate: 200, once: true, tag: 'loop' });
      const loop = await hook.waitFor(kindIs('test_loop'));
      const event = loop.body as AlertEventBody;
      assert.equal(event.type, 'livestream.alert');
      assert.equal(event.alert.sessionId, 'weather-app-loop');
      assert.match(
        event.alert.reason,
        /^Tests failing \d+ iterations in a row \(3 of 24 failing now\), [\d,]+ tokens spent since Integration Pre-Check$/,
      );
      assert.equal(event.url, `${app.url}/#/session/weather-app-loop`);
      await hook.waitFor(kindIs('healing_loop'));

      const { queue } = await api<{ queue: Alert[] }>(app, '/api/attention');
      const queued = queue.find((a) => a.kind === 'test_loop');
      assert.ok(queued);
      await api(app, '/api/attention/ack', { id: queued.id, by: 'test' });
      const after = await api<{ queue: Alert[]; alerts: Alert[] }>(app, '/api/attention');
      assert.ok(!after.queue.some((a) => a.id === queued.id));
      assert.ok(after.alerts.some((a) => a.id === queued.id && a.acknowledgedAt !== null));

      // The demo has ended: nothing is written any more.
      const gone = await hook.waitFor(kindIs('producer_gone'));
      assert.ok((gone.body as AlertEventBody).alert.since <= gone.at - 1500);
      const history = await api<{ alerts: Alert[]; events: AlertEvent[] }>(
        app,
        '/api/alerts/weather-app-loop',
      );
      const kinds = history.events.map(
        (e) => `${e.kind}:${history.alerts.find((a) => a.id === e.alertId)?.kind}`,
      );
      assert.ok(kinds.includes('raised:test_loop'));
      assert.ok(kinds.includes('acknowledged:test_loop'));
      assert.equal(hook.received.filter(kindIs('test_loop')).length, 1, 'one webhook per episode');

      const bad = await fetch(`${app.url}/api/attention/snooze`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id: queued.id, minutes: 0 }),
      });
      assert.equal(bad.status, 400);
      assert.equal(((await bad.json()) as { error: string }).error, 'bad_request');
    } finally {
      await app.stop();
      await hook.close();
    }
  });

  it('runaway spend and a stuck build are told apart, and a restart repeats no webhook', async () => {
    const { root, config, hook } = await setup({
      spendTokens: 150_000,
      stallDefaultMs: 800,
      stallMinMs: 0,
    });
    let app = await createApp({ config, logger });
    try {
      const runaway = runDemo({ root, scenario: 'runaway', rate: 100, once: true, tag: 'burn' });
      const spend = await hook.waitFor(kindIs('runaway_spend'));
      assert.match(
        (spend.body as AlertEventBody).alert.reason,
        /^[\d,]+ tokens spent since Parallel Build Planning without a phase or test change$/,
      );
      await runaway;
      await runDemo({ root, scenario: 'stuck', rate: 100, once: true, tag: 'stuck', sessions: 1 });
      const stuck = await hook.waitFor(
        (r) =>
          kindIs('stalled')(r) &&
          (r.body as AlertEventBody).alert.sessionId === 'weather-app-stuck',
      );
      assert.match((stuck.body as AlertEventBody).alert.reason, /^No progress in Builder for over/);
      await app.attention.idle();
      await app.notifier.idle();
      const count = hook.received.length;
      await app.stop();

      app = await createApp({ config, logger });
      await app.attention.idle();
      await app.notifier.idle();
      assert.equal(hook.received.length, count, 'nothing sent twice after the restart');
    } finally {
      await app.stop();
      await hook.close();
    }
  });
});
