import assert from 'node:assert/strict';
import { once } from 'node:events';
import { appendFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createApp } from '../../src/app.ts';
import { createLogger } from '../../src/logger.ts';
import { FORWARD_WIRE_VERSION } from '../../src/shared/forward.ts';
import type { LogLine, SessionDetail } from '../../src/shared/model.ts';
import { Forwarder } from '../../src/sources/forwarder.ts';
import { testConfig } from '../helpers/app-config.ts';
import { waitFor } from '../helpers/server.ts';
import { captureLogger } from '../helpers/store.ts';

const logger = createLogger({ level: 'silent' });

/**
 * Between a real forwarder and a real server: while `newer` is set it
 * rewrites each batch's version to the next one, as a forwarder upgraded
 * before its server would send it; cleared, the server "speaks" the
 * forwarder's version (it was upgraded). Counts the answers by status.
 */
async function versionProxy(target: string) {
  const statuses: number[] = [];
  const state = { newer: true };
  const server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    let body = Buffer.concat(chunks).toString();
    if (state.newer) {
      body = body.replace(
        `{"version":${FORWARD_WIRE_VERSION},`,
        `{"version":${FORWARD_WIRE_VERSION + 1},`,
      );
    }
    const headers = new Headers();
    for (const [name, value] of Object.entries(request.headers)) {
      if (['host', 'connection', 'content-length'].includes(name) || value === undefined) continue;
      headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    let answer: Response;
    try {
      answer = await fetch(`${target}${request.url}`, {
        method: request.method ?? 'POST',
        headers,
        body,
      });
    } catch {
      // As a real proxy: the server did not answer (a kept-alive socket it had just closed).
      response.writeHead(502, { 'content-type': 'application/json' });
      response.end('{"error":"bad_gateway","message":"the server did not answer"}');
      return;
    }
    statuses.push(answer.status);
    response.writeHead(answer.status, { 'content-type': 'application/json' });
    response.end(await answer.text());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    statuses,
    state,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

test('a batch newer than the server: 426 with a clear message, kept in the outbox, delivered once the server takes it', async (t) => {
  // Undone last first: the forwarder, retrying through the proxy, would keep its connection
  // busy and the proxy's close waiting for it if the server went before it.
  const undo: (() => Promise<unknown>)[] = [];
  t.after(async () => {
    for (const step of undo.reverse()) await step();
  });
  const dir = await mkdtemp(join(tmpdir(), 'livestream-forward-version-'));
  undo.push(() => rm(dir, { recursive: true, force: true }));
  const config = testConfig([join(dir, 'own-root')], join(dir, 'history.db'), {
    webDir: join(dir, 'no-web'),
    agents: null,
  });
  await mkdir(config.roots[0] as string, { recursive: true });
  const app = await createApp({ config, logger });
  undo.push(() => app.stop());
  const url = app.url as string;

  // The server's side, as any client sees it.
  const refused = await fetch(`${url}/api/forward`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      version: FORWARD_WIRE_VERSION + 1,
      forwarder: '6f1b0c3e-8d2a-4c5b-9e7f-1a2b3c4d5e6f',
      host: 'ci-9',
      dropped: 0,
      events: [],
    }),
  });
  assert.equal(refused.status, 426);
  assert.deepEqual(await refused.json(), {
    error: 'upgrade_required',
    message: `This server speaks forward version ${FORWARD_WIRE_VERSION}, the forwarder ${FORWARD_WIRE_VERSION + 1}: upgrade the server.`,
  });

  // The forwarder's side.
  const proxy = await versionProxy(url);
  undo.push(() => proxy.close());
  const forwarderLog = captureLogger();
  const root = join(dir, 'machine');
  const project = join(root, 'weather-app');
  await mkdir(join(project, '.context-foundry'), { recursive: true });
  await mkdir(join(project, 'logs', 'events', 'weather-app'), { recursive: true });
  const forwarder = new Forwarder({
    to: proxy.url,
    token: null,
    roots: [root],
    host: 'ci-9',
    outboxPath: join(dir, 'outbox.db'),
    logger: forwarderLog.logger,
    maxBackoffMs: 100,
  });
  undo.push(() => forwarder.stop());
  await writeFile(
    join(project, '.context-foundry', 'current-phase.json'),
    JSON.stringify({
      session_id: 'weather-app',
      current_phase: 'Builder',
      phase_number: '4/7',
      status: 'in_progress',
    }),
  );
  const lines = Array.from({ length: 30 }, (_, i) => i + 1);
  await appendFile(
    join(project, 'logs', 'events', 'weather-app', 'events.jsonl'),
    lines
      .map(
        (n) =>
          `${JSON.stringify({ type: 'log_line', session_id: 'weather-app', sequence: n, timestamp: Date.now(), data: { message: `ci-9 line ${n}` } })}\n`,
      )
      .join(''),
  );
  await forwarder.start();
  await waitFor(
    () => (proxy.statuses.filter((s) => s === 426).length >= 3 ? true : undefined),
    10_000,
    'three refused attempts',
  );
  const kept = forwarder.stats;
  assert.match(kept.lastError ?? '', /^HTTP 426: This server speaks forward version 1/);
  assert.equal(kept.connected, false);
  // The log says the server answered and refused, not that it could not be reached.
  const said = forwarderLog.lines.map((l) => l.msg);
  assert.ok(said.includes('forward: the server did not take the batch; events wait in the outbox'));
  assert.ok(!said.some((m) => /unreachable/.test(m)), said.join(' | '));
  assert.ok(kept.queued >= 2, `the events wait in the outbox (${kept.queued})`);
  assert.deepEqual([kept.sent, kept.dropped], [0, 0], 'nothing sent, nothing dropped');
  assert.equal(app.hub.get('session:weather-app@ci-9'), undefined, 'the server took nothing');

  // The server is "upgraded": the same events, from the outbox, arrive, each once.
  proxy.state.newer = false;
  await forwarder.drained();
  assert.ok(proxy.statuses.includes(200));
  assert.equal(forwarder.stats.sent, kept.queued, 'every kept event was delivered');
  const detail = app.hub.get('session:weather-app@ci-9')?.data as SessionDetail | undefined;
  assert.equal(detail?.status.currentPhase, 'Builder');
  const got = (
    (app.hub.get('logs:weather-app@ci-9')?.data as { lines?: LogLine[] } | undefined)?.lines ?? []
  )
    .map((l) => Number(/ci-9 line (\d+)/.exec(l.text)?.[1]))
    .filter((n) => !Number.isNaN(n));
  assert.deepEqual(got, lines, 'every line once, in order');
});
