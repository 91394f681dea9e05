import assert from 'node:assert/strict';
import { appendFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { type App, createApp } from '../../src/app.ts';
import { createLogger } from '../../src/logger.ts';
import type { LogLine, SessionDetail } from '../../src/shared/model.ts';
import { Forwarder } from '../../src/sources/forwarder.ts';
import { testConfig } from '../helpers/app-config.ts';
import { waitFor } from '../helpers/server.ts';

const logger = createLogger({ level: 'silent' });
const dirs: string[] = [];
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function tempDir(name: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `livestream-${name}-`));
  dirs.push(dir);
  return dir;
}

const TOKENS = { 'ci-1': 'token-of-ci-1-0123456789', 'ci-2': 'token-of-ci-2-0123456789' };

async function server(dir: string, port = 0): Promise<App> {
  const config = testConfig([join(dir, 'own-root')], join(dir, 'history.db'), {
    port,
    webDir: join(dir, 'no-web'),
    agents: null,
    forwarderTokensPath: join(dir, 'tokens'),
  });
  await mkdir(config.roots[0] as string, { recursive: true });
  const app = await createApp({ config, logger });
  return app;
}

async function writeTokens(dir: string, hosts: (keyof typeof TOKENS)[]): Promise<void> {
  const lines = hosts.map((h) => `${h} ${TOKENS[h]}`);
  await writeFile(join(dir, 'tokens'), `# host token\n${lines.join('\n')}\n`);
}

/** A build machine: a project folder named like everyone's, written as a build goes. */
async function machine(host: keyof typeof TOKENS, url: () => string) {
  const root = await tempDir(`forward-${host}`);
  const project = join(root, 'weather-app');
  await mkdir(join(project, '.context-foundry'), { recursive: true });
  await mkdir(join(project, 'logs', 'events', 'weather-app'), { recursive: true });
  const forwarder = new Forwarder({
    to: url(),
    token: TOKENS[host],
    roots: [root],
    host,
    outboxPath: join(root, 'outbox.db'),
    logger,
    maxBackoffMs: 200,
  });
  cleanups.push(() => forwarder.stop());
  await forwarder.start();
  let line = 0;
  return {
    forwarder,
    phase: (n: number) =>
      writeFile(
        join(project, '.context-foundry', 'current-phase.json'),
        JSON.stringify({
          session_id: 'weather-app',
          current_phase: `Builder ${n}`,
          phase_number: '4/7',
          status: 'in_progress',
          progress_detail: `${host} step ${n}`,
        }),
      ),
    log: async (count: number) => {
      let text = '';
      for (let i = 0; i < count; i++) {
        line++;
        text += `${JSON.stringify({ type: 'log_line', session_id: 'weather-app', timestamp: new Date().toISOString(), sequence: line, data: { message: `${host} line ${line}` } })}\n`;
      }
      await appendFile(join(project, 'logs', 'events', 'weather-app', 'events.jsonl'), text);
    },
    lines: () => line,
  };
}

const detail = (app: App, key: string) =>
  app.hub.get(`session:${key}`)?.data as SessionDetail | undefined;
const logLines = (app: App, key: string) =>
  ((app.hub.get(`logs:${key}`)?.data as { lines?: LogLine[] } | undefined)?.lines ?? []).map(
    (l) => l.text,
  );

test('two machines, one project name: two sessions, by host; a resent batch changes nothing', async () => {
  const dir = await tempDir('forward-server');
  await writeTokens(dir, ['ci-1', 'ci-2']);
  const app = await server(dir);
  cleanups.push(() => app.stop());
  const one = await machine('ci-1', () => app.url as string);
  const two = await machine('ci-2', () => app.url as string);
  await one.phase(1);
  await two.phase(7);
  await one.log(3);
  const a = await waitFor(() => detail(app, 'weather-app@ci-1'), 10_000, 'ci-1’s session');
  const b = await waitFor(() => detail(app, 'weather-app@ci-2'), 10_000, 'ci-2’s session');
  assert.equal(a.status.currentPhase, 'Builder 1');
  assert.equal(b.status.currentPhase, 'Builder 7');
  assert.match(a.status.projectDir ?? '', /^\/@ci-1\//, 'the machine is in the project path');
  const ownLines = () => logLines(app, 'weather-app@ci-1').filter((t) => /ci-1 line/.test(t));
  await waitFor(() => (ownLines().length === 3 ? true : undefined), 10_000, 'three lines');
  await one.forwarder.drained();

  // The same batch again (an answer lost on the way back): applied once only.
  const before = app.hub.get('logs:weather-app@ci-1')?.version;
  const event = {
    source: 'metrics',
    event: {
      kind: 'jsonl',
      batch: {
        kind: 'events',
        sessionId: 'weather-app',
        path: '/x/logs/events/weather-app/events.jsonl',
        values: [{ type: 'log_line', data: { message: 'resent' } }],
      },
    },
  };
  const send = () =>
    fetch(`${app.url}/api/forward`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKENS['ci-1']}` },
      body: JSON.stringify({
        forwarder: FIXED_ID,
        host: 'spoofed',
        dropped: 0,
        events: [{ seq: 1, event }],
      }),
    }).then((r) => r.json() as Promise<{ applied: number; duplicates: number; host: string }>);
  const first = await send();
  const again = await send();
  assert.deepEqual([first.applied, first.host], [1, 'ci-1'], 'the token names the host');
  assert.deepEqual([again.applied, again.duplicates], [0, 1]);
  assert.equal(app.hub.get('logs:weather-app@ci-1')?.version, (before ?? 0) + 1);
  // What an operator sees of it on /metrics.
  const metrics = await (await fetch(`${app.url}/metrics`)).text();
  const value = (line: RegExp) => Number(line.exec(metrics)?.[1] ?? Number.NaN);
  assert.ok(value(/^livestream_forward_batches_total (\d+)$/m) >= 4, 'batches counted');
  assert.ok(value(/^livestream_forward_events_total\{result="applied"\} (\d+)$/m) >= 5);
  assert.equal(value(/^livestream_forward_events_total\{result="duplicate"\} (\d+)$/m), 1);
  assert.ok(value(/^livestream_forward_batch_seconds_count (\d+)$/m) >= 4, 'batch time observed');
});

const FIXED_ID = '6f1b0c3e-8d2a-4c5b-9e7f-1a2b3c4d5e6f';

test('a revoked machine is refused and keeps its events; a server away for a while loses nothing', async () => {
  const dir = await tempDir('forward-outage');
  await writeTokens(dir, ['ci-1', 'ci-2']);
  let app = await server(dir);
  const port = Number(new URL(app.url as string).port);
  cleanups.push(() => app.stop());
  const one = await machine('ci-1', () => app.url as string);
  const two = await machine('ci-2', () => app.url as string);
  await one.phase(1);
  await two.phase(1);
  await waitFor(() => detail(app, 'weather-app@ci-2'), 10_000, 'ci-2’s session');

  // Revoked: the file changes, no restart. Its events wait for a token that works.
  await writeTokens(dir, ['ci-1']);
  await new Promise((resolve) => setTimeout(resolve, 1100));
  await two.phase(2);
  await waitFor(() => (/revoked/.test(two.forwarder.stats.lastError ?? '') ? true : undefined));
  assert.ok(two.forwarder.stats.queued > 0, 'kept in the outbox');
  assert.equal(detail(app, 'weather-app@ci-2')?.status.currentPhase, 'Builder 1');

  // The server goes away; the build goes on writing.
  await app.stop();
  for (let n = 2; n <= 6; n++) {
    await one.phase(n);
    await one.log(20);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await waitFor(() => (one.forwarder.stats.queued > 0 ? true : undefined));
  app = await server(dir, port);
  await one.forwarder.drained();
  await waitFor(
    () => (detail(app, 'weather-app@ci-1')?.status.currentPhase === 'Builder 6' ? true : undefined),
    10_000,
    'the last phase',
  );
  const expected = Array.from({ length: one.lines() }, (_, i) => i + 1);
  const got = (
    (await (await fetch(`${app.url}/api/logs/weather-app@ci-1?lines=1000`)).json()) as {
      lines: { text: string }[];
    }
  ).lines
    .map((l) => Number(/ci-1 line (\d+)/.exec(l.text)?.[1]))
    // The session's own lines (phase changes) are in the log too.
    .filter((n) => !Number.isNaN(n));
  assert.deepEqual(got, expected, 'every line once, in order');
  assert.equal(one.forwarder.stats.dropped, 0);
});
