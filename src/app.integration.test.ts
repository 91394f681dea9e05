import assert from 'node:assert/strict';
import { once } from 'node:events';
import { appendFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { type IncomingMessage, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import { testConfig } from '../test/helpers/app-config.ts';
import { type App, createApp } from './app.ts';
import type { AppConfig } from './config.ts';
import type { LogLine } from './shared/model.ts';

const logger = pino({ level: 'silent' });
const temps: string[] = [];
after(async () => {
  for (const dir of temps) await rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ls-app-'));
  temps.push(dir);
  return dir;
}

function config(root: string, dbPath: string): AppConfig {
  return testConfig([root], dbPath);
}

async function push(app: App, body: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${app.url}/api/phase-update`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.equal(res.status, 200, await res.text());
}

async function logs(app: App, id: string): Promise<LogLine[]> {
  const res = await fetch(`${app.url}/api/logs/${id}?lines=1000`);
  assert.equal(res.status, 200);
  return ((await res.json()) as { lines: LogLine[] }).lines;
}

/** Polls the app's log until `pred` holds: the watcher and tails are events seen only by looking. */
async function waitForLogs(
  app: App,
  id: string,
  pred: (lines: LogLine[]) => boolean,
): Promise<LogLine[]> {
  const deadline = Date.now() + 10_000;
  let lines: LogLine[] = [];
  while (Date.now() < deadline) {
    lines = await logs(app, id);
    if (pred(lines)) return lines;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for the log of ${id}: ${JSON.stringify(lines)}`);
}

function event(type: string, sequence: number, data: Record<string, unknown>): string {
  return `${JSON.stringify({ type, session_id: 'weather', sequence, data })}\n`;
}

describe('a restarted app', () => {
  it('serves the session logs it had, continues numbering, and does not read events.jsonl twice', async () => {
    const root = await tempDir();
    const db = join(await tempDir(), 'history.db');
    const events = join(root, 'logs', 'events', 'weather', 'events.jsonl');
    await mkdir(join(root, 'logs', 'events', 'weather'), { recursive: true });

    const first = await createApp({ config: config(root, db), logger });
    let before: LogLine[];
    try {
      await push(first, { session_id: 'weather', current_phase: 'Scout', status: 'researching' });
      await appendFile(events, event('iteration_start', 1, { iteration: 1 }));
      await appendFile(events, event('error', 2, { message: 'npm test failed' }));
      await waitForLogs(first, 'weather', (l) => l.some((x) => x.kind === 'error'));
      await push(first, { session_id: 'weather', current_phase: 'Builder', status: 'building' });
      before = await waitForLogs(first, 'weather', (l) => l.length === 4);
      assert.deepEqual(
        before.map((l) => l.n),
        [1, 2, 3, 4],
      );
    } finally {
      await first.stop();
    }

    const second = await createApp({ config: config(root, db), logger });
    try {
      assert.equal(second.hub.get('logs:weather'), undefined, 'no log is loaded at start');
      assert.deepEqual(await logs(second, 'weather'), before, 'GET /api/logs after the restart');
      assert.deepEqual(
        (second.hub.get('logs:weather')?.data as { lines: LogLine[] } | undefined)?.lines,
        before,
        'the logs:<key> topic after the restart',
      );
      // A line appended now shows only after the tail read from its saved
      // offset: lines read again from the start would show before it.
      await appendFile(events, event('deploy', 3, { target: 'prod' }));
      await waitForLogs(second, 'weather', (l) => l.some((x) => x.kind === 'deploy'));
      await push(second, { session_id: 'weather', current_phase: 'Test', status: 'testing' });
      const afterRestart = await waitForLogs(second, 'weather', (l) => l.length === 6);
      assert.deepEqual(
        afterRestart.map((l) => l.n),
        [1, 2, 3, 4, 5, 6],
      );
      assert.deepEqual(afterRestart.slice(0, 4), before);
      assert.deepEqual(
        afterRestart.slice(4).map((l) => l.text),
        ['deploy: {"target":"prod"}', 'Phase Builder → Test, testing'],
      );
      const stored = await second.store.logLines('weather');
      assert.deepEqual(stored, afterRestart, 'stored once each');
    } finally {
      await second.stop();
    }

    // A line logged before anyone reads continues the numbering, and the
    // first subscriber gets the stored lines and the new one in order.
    const third = await createApp({ config: config(root, db), logger });
    try {
      await push(third, { session_id: 'weather', current_phase: 'Deploy', status: 'deploying' });
      const snapshot = await subscribeSnapshot(third, 'logs:weather');
      assert.deepEqual(
        snapshot.lines.map((l) => l.n),
        [1, 2, 3, 4, 5, 6, 7],
      );
      assert.equal(snapshot.lines.at(-1)?.text, 'Phase Test → Deploy, deploying');
    } finally {
      await third.stop();
    }
  });
});

/** Subscribes to one topic over `WS /ws` and resolves with its snapshot's data. */
async function subscribeSnapshot(app: App, name: string): Promise<{ lines: LogLine[] }> {
  const ws = new WebSocket(`${String(app.url).replace('http', 'ws')}/ws`);
  try {
    return await new Promise((resolve, reject) => {
      ws.addEventListener('error', () => reject(new Error('WebSocket error')));
      ws.addEventListener('message', (event) => {
        const message = JSON.parse(String(event.data)) as {
          type: string;
          topic?: string;
          data?: unknown;
        };
        if (message.type === 'welcome')
          ws.send(JSON.stringify({ type: 'subscribe', topics: [name] }));
        if (message.type === 'snapshot' && message.topic === name) {
          resolve(message.data as { lines: LogLine[] });
        }
      });
    });
  } finally {
    ws.close();
  }
}

describe('an app with a token', () => {
  it('answers a WebSocket upgrade without the token with 401 and closes it, so stop() does not wait for it', {
    timeout: 20_000,
  }, async () => {
    const root = await tempDir();
    const app = await createApp({
      config: { ...config(root, join(root, 'history.db')), token: 'sesame' },
      logger,
    });
    try {
      const req = request(`${app.url}/ws`, {
        agent: false,
        headers: {
          connection: 'Upgrade',
          upgrade: 'websocket',
          'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
          'sec-websocket-version': '13',
        },
      });
      req.end();
      const [res] = (await once(req, 'response')) as [IncomingMessage];
      assert.equal(res.statusCode, 401);
      res.resume();
      // The server closes the refused socket; before, it stayed open until the client left.
      await once(res.socket, 'close');
    } finally {
      await app.stop();
    }
  });
});
