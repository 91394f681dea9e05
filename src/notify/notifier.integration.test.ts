import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { captureLogger, tempDir } from '../../test/helpers/store.ts';
import { SqliteAlertStore } from '../store/alert-store.ts';
import { SqliteStore } from '../store/sqlite-store.ts';
import { isSlackWebhook, parseWebhookUrl, WebhookChannel } from './channels.ts';
import { type AlertEventBody, sampleAlert, slackBody } from './event.ts';
import { backoff, Notifier } from './notifier.ts';

/** A real webhook receiver on loopback that answers `fail` times with 503, then 200. */
async function receiver(fail = 0) {
  const bodies: { path: string; body: unknown }[] = [];
  let failures = fail;
  const server: Server = createServer((req: IncomingMessage, res) => {
    let text = '';
    req.on('data', (c) => {
      text += c;
    });
    req.on('end', () => {
      if (failures > 0) {
        failures--;
        res.writeHead(503).end();
        return;
      }
      bodies.push({ path: req.url ?? '', body: JSON.parse(text) });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    bodies,
    port,
    url: `http://127.0.0.1:${port}/hook/SECRET-TOKEN-123`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

function open(dir: string, logger = captureLogger().logger) {
  const store = SqliteStore.open(join(dir, 'history.db'), { logger });
  return { store, alerts: new SqliteAlertStore(store.database, logger) };
}

function waitFor(notifier: Notifier, check: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    if (check()) return resolve();
    const off = notifier.onAttempt(() => {
      if (check()) {
        off();
        resolve();
      }
    });
  });
}

describe('Notifier', () => {
  const tmp = tempDir();
  after(() => tmp.cleanup());

  it('retries with backoff until the receiver takes it, once per episode, never logging the token', async () => {
    const hook = await receiver(2);
    const { logger, lines } = captureLogger();
    const db = open(join(tmp.dir, 'retry'), logger);
    const notifier = new Notifier({
      store: db.alerts,
      channels: [new WebhookChannel(parseWebhookUrl(hook.url))],
      logger,
      retry: { initialMs: 20, maxMs: 100 },
      dashboardUrl: () => 'http://127.0.0.1:8080',
    });
    notifier.start();
    const alert = sampleAlert(Date.now());
    await notifier.notify(alert);
    await waitFor(notifier, () => hook.bodies.length === 1);
    await notifier.notify(alert);
    await notifier.idle();
    assert.equal(hook.bodies.length, 1, 'de-duplicated per episode');
    const body = hook.bodies[0]?.body as AlertEventBody;
    assert.equal(body.type, 'livestream.alert');
    assert.equal(body.alert.id, alert.id);
    assert.equal(body.url, 'http://127.0.0.1:8080/#/session/livestream-test');
    const [entry] = await db.alerts.notifications(alert.id);
    assert.equal(entry?.state, 'sent');
    assert.equal(entry?.attempts, 3);
    const logged = JSON.stringify(lines);
    assert.match(logged, /will retry/);
    assert.doesNotMatch(logged, /SECRET-TOKEN-123|\/hook\//);
    await notifier.close();
    await db.store.close();
    await hook.close();
  });

  it('keeps what it could not send across a restart and sends it once', async () => {
    const dir = join(tmp.dir, 'restart');
    const hook = await receiver();
    await hook.close();
    // Nothing listens on the port now: the first run can only fail.
    let db = open(dir);
    const channel = () => new WebhookChannel(parseWebhookUrl(`http://127.0.0.1:${hook.port}/x`));
    let notifier = new Notifier({
      store: db.alerts,
      channels: [channel()],
      logger: captureLogger().logger,
      retry: { initialMs: 60_000 },
    });
    const alert = sampleAlert(Date.now());
    await notifier.notify(alert);
    await waitFor(notifier, () => true);
    await notifier.idle();
    const [pending] = await db.alerts.notifications(alert.id);
    assert.equal(pending?.state, 'pending');
    assert.match(pending?.lastError ?? '', /request failed \(ECONNREFUSED\)/);
    await notifier.close();
    await db.store.close();

    const up = await receiver();
    db = open(dir);
    // The same receiver address as before: move the due time up, as if the minute had passed.
    db.store.database.prepare('UPDATE notifications SET next_at = 0').run();
    notifier = new Notifier({
      store: db.alerts,
      channels: [new WebhookChannel(parseWebhookUrl(`http://127.0.0.1:${up.port}/x`))],
      logger: captureLogger().logger,
    });
    // A different URL is a different channel: the old entry is given up, the new one is queued.
    await notifier.notify(alert);
    notifier.start();
    await waitFor(notifier, () => up.bodies.length === 1);
    await notifier.idle();
    assert.equal(up.bodies.length, 1);
    await notifier.notify(alert);
    await notifier.idle();
    assert.equal(up.bodies.length, 1);
    await notifier.close();
    await db.store.close();
    await up.close();
  });

  it('resumes a pending entry of the same channel after a restart', async () => {
    const dir = join(tmp.dir, 'resume');
    const hook = await receiver(1);
    let db = open(dir);
    const url = parseWebhookUrl(hook.url);
    let notifier = new Notifier({
      store: db.alerts,
      channels: [new WebhookChannel(url)],
      logger: captureLogger().logger,
      retry: { initialMs: 60_000 },
    });
    const alert = sampleAlert(Date.now());
    await notifier.notify(alert);
    await waitFor(notifier, () => true);
    await notifier.close();
    await db.store.close();
    assert.equal(hook.bodies.length, 0);

    db = open(dir);
    db.store.database.prepare('UPDATE notifications SET next_at = 0').run();
    notifier = new Notifier({
      store: db.alerts,
      channels: [new WebhookChannel(url)],
      logger: captureLogger().logger,
    });
    notifier.start();
    await waitFor(notifier, () => hook.bodies.length === 1);
    assert.equal(hook.bodies.length, 1);
    await notifier.close();
    await db.store.close();
    await hook.close();
  });
});

describe('webhook bodies', () => {
  it('speaks Slack to Slack incoming webhooks, escaping producer text', () => {
    assert.ok(isSlackWebhook(new URL('https://hooks.slack.com/services/T0/B0/XYZ')));
    assert.ok(!isSlackWebhook(new URL('https://example.com/services/T0')));
    const alert = { ...sampleAlert(1000), sessionId: 'a<b>', reason: 'x & <y>' };
    const body = slackBody({
      type: 'livestream.alert',
      version: 1,
      test: true,
      alert,
      url: 'http://h/#/session/a',
    });
    assert.equal(
      body.text,
      '🟠 *a&lt;b&gt;* — Test loop (test)\nx &amp; &lt;y&gt;\n<http://h/#/session/a|Open in Livestream>',
    );
    const channel = new WebhookChannel(new URL('https://hooks.slack.com/services/T0/B0/XYZ'));
    assert.equal(channel.label, 'webhook https://hooks.slack.com/… (Slack)');
    assert.doesNotMatch(channel.key, /XYZ/);
  });

  it('backs off exponentially up to the cap', () => {
    const policy = { initialMs: 1000, maxMs: 8000, maxAttempts: 10 };
    assert.deepEqual(
      [1, 2, 3, 4, 5].map((n) => backoff(n, policy, () => 0.5)),
      [1000, 2000, 4000, 8000, 8000],
    );
    assert.throws(() => parseWebhookUrl('ftp://x'), /unsupported scheme/);
  });
});
