import assert from 'node:assert/strict';
import { appendFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, test } from 'node:test';
import { LivestreamClient } from '../../src/client/client.ts';
import type { SessionDetail } from '../../src/shared/model.ts';
import { LOG_LINES_KEPT } from '../../src/store/statements.ts';
import { runCli, type ServerProcess, startServer, waitFor } from '../helpers/server.ts';
import {
  freePort,
  type PostgresServer,
  type RedisServer,
  startPostgres,
  startRedis,
} from '../helpers/services.ts';
import { converges, FAULT_MS, Pusher, sleep, truthOf } from './faults.ts';

/**
 * The faults of a scaled-out deployment, for real: replicas are `serve --bus`
 * child processes on one Redis and one PostgreSQL, killed and cut off as an
 * operator's machines would be. Afterwards every client holds what a fresh
 * client gets, and every acknowledged push is in the history.
 */

let pg: PostgresServer;
let redis: RedisServer;
let dir: string;
const processes: ServerProcess[] = [];
const clients: LivestreamClient[] = [];

before(async () => {
  [pg, redis] = await Promise.all([startPostgres(), startRedis()]);
  dir = await mkdtemp(join(tmpdir(), 'livestream-faults-'));
});
after(async () => {
  for (const client of clients) client.close();
  for (const p of processes) await p.stop('SIGKILL');
  await redis?.close();
  await pg?.close();
  await rm(dir, { recursive: true, force: true });
});

let replicas = 0;
async function replica(prefix: string, extra: string[] = []): Promise<ServerProcess> {
  const own = join(dir, `replica-${++replicas}`);
  await mkdir(own, { recursive: true });
  const server = await startServer([
    '--root',
    own,
    '--db',
    join(own, 'alerts.db'),
    '--store',
    pg.url,
    '--bus',
    `${redis.url}?lease_ms=1500&prefix=${prefix}:`,
    '--no-agents',
    ...extra,
  ]);
  processes.push(server);
  return server;
}

function client(url: () => string, topic: string): LivestreamClient {
  const c = new LivestreamClient({
    url: () => `${url().replace(/^http/, 'ws')}/ws`,
    backoff: { initialMs: 20, maxMs: 250 },
  });
  c.subscribe(topic);
  c.connect();
  clients.push(c);
  return c;
}

async function storedPhases(key: string): Promise<Set<string>> {
  const rows = await pg.psql(`SELECT to_phase FROM transitions WHERE session_key = '${key}'`);
  return new Set(rows.split('\n').filter(Boolean));
}

const isFinal = (d: SessionDetail) => d.status.currentPhase === 'Final';

async function settle(pusher: Pusher, url: string, watching: LivestreamClient[]): Promise<void> {
  await pusher.finish('Final');
  const topic = `session:${pusher.sessionId}`;
  const truth = await truthOf<SessionDetail>(url, topic, isFinal);
  for (const c of watching) await converges(c, topic, truth);
  for (const c of watching) assert.equal(c.stats.gaps, 0, 'no delta applied out of order');
  const stored = await waitFor(async () => {
    const phases = await storedPhases(pusher.sessionId);
    return phases.has('Final') ? phases : undefined;
  });
  const missing = pusher.acked.filter((p) => !stored.has(p));
  assert.deepEqual(missing, [], 'every acknowledged push is in the history');
}

test('kill -9 the writer replica mid-stream: the other takes over, nothing acknowledged is lost', async () => {
  const a = await replica('kill');
  const b = await replica('kill');
  assert.match(a.output(), /Replica \(writer\)/);
  assert.match(b.output(), /Replica \(follower\)/);
  const target = { url: a.url };
  const pusher = new Pusher('fault-kill', () => target.url);
  const onB = client(() => b.url, 'session:fault-kill');
  const movingClient = client(() => target.url, 'session:fault-kill');
  pusher.start();
  await waitFor(() => (pusher.acked.length >= 20 ? true : undefined), 10_000, '20 pushes');
  target.url = b.url;
  await a.stop('SIGKILL');
  await waitFor(() => (pusher.acked.length >= 40 ? true : undefined), 20_000, 'pushes to b');
  await pusher.stop();
  assert.match(b.output(), /^$|/);
  await settle(pusher, b.url, [onB, movingClient]);
  assert.ok(onB.stats.resumes >= 1, 'b’s client resumed when b became the writer');
  assert.equal(onB.stats.resyncs, 0, 'nothing missed: no resync needed');
});

test('Redis restarts mid-stream: replicas carry on, clients miss nothing', async () => {
  const a = await replica('restart');
  const b = await replica('restart');
  const pusher = new Pusher('fault-redis', () => b.url);
  const onA = client(() => a.url, 'session:fault-redis');
  const onB = client(() => b.url, 'session:fault-redis');
  pusher.start();
  await waitFor(() => (pusher.acked.length >= 20 ? true : undefined), 10_000, '20 pushes');
  await redis.stop();
  await sleep(300);
  await redis.start();
  const acked = pusher.acked.length;
  await waitFor(
    () => (pusher.acked.length >= acked + 20 ? true : undefined),
    20_000,
    'more pushes',
  );
  await pusher.stop();
  await settle(pusher, a.url, [onA, onB]);
  assert.equal(onA.stats.resyncs + onB.stats.resyncs, 0, 'the shared log survived the restart');
});

test(`PostgreSQL away for ${FAULT_MS.postgres / 1000} s: pushes go on, the history catches up`, async () => {
  const a = await replica('pg');
  const b = await replica('pg');
  const pusher = new Pusher('fault-pg', () => a.url);
  const onB = client(() => b.url, 'session:fault-pg');
  pusher.start();
  await waitFor(() => (pusher.acked.length >= 10 ? true : undefined), 10_000, '10 pushes');
  await pg.stop();
  const during = pusher.acked.length;
  await sleep(FAULT_MS.postgres);
  assert.ok(pusher.acked.length > during + 10, 'pushes acknowledged while PostgreSQL was away');
  await pg.start();
  await pusher.stop();
  await settle(pusher, b.url, [onB]);
});

test(`a forwarder cut off for ${FAULT_MS.forwarder / 1000} s while its build writes: all of it arrives, once`, async (t) => {
  const own = join(dir, 'central');
  const build = join(dir, 'build-machine', 'weather-app');
  await mkdir(own, { recursive: true });
  await mkdir(join(build, '.context-foundry'), { recursive: true });
  await mkdir(join(build, 'logs', 'events', 'weather-app'), { recursive: true });
  const tokens = join(dir, 'forwarder-tokens');
  await writeFile(tokens, 'ci-7 ci-7-secret-token-0123456789\n');
  const port = await freePort();
  const args = [
    '--root',
    own,
    '--db',
    join(own, 'h.db'),
    '--no-agents',
    '--forwarder-tokens',
    tokens,
  ];
  let central = await startServer([...args, '--port', String(port)]);
  processes.push(central);
  const url = central.url;
  const forwarder = runCli([
    'forward',
    '--to',
    url,
    '--token',
    'ci-7-secret-token-0123456789',
    '--host',
    'ci-7',
    '--root',
    join(dir, 'build-machine'),
    '--outbox',
    join(dir, 'outbox.db'),
  ]);
  let forwarderOutput = '';
  let passed = false;
  forwarder.stdout?.on('data', (chunk: Buffer) => {
    forwarderOutput += chunk.toString();
  });
  forwarder.stderr?.on('data', (chunk: Buffer) => {
    forwarderOutput += chunk.toString();
  });
  t.after(() => {
    forwarder.kill('SIGKILL');
    if (!passed)
      t.diagnostic(`forwarder output:\n${forwarderOutput}\ncentral:\n${central.output()}`);
  });
  let line = 0;
  const writeStep = async (n: number) => {
    await writeFile(
      join(build, '.context-foundry', 'current-phase.json'),
      JSON.stringify({
        session_id: 'weather-app',
        current_phase: `Step ${n}`,
        phase_number: '4/7',
        status: 'in_progress',
      }),
    );
    let text = '';
    for (let i = 0; i < 10; i++) {
      line++;
      text += `${JSON.stringify({ type: 'log_line', session_id: 'weather-app', sequence: line, timestamp: Date.now(), data: { message: `build line ${line}` } })}\n`;
    }
    await appendFile(join(build, 'logs', 'events', 'weather-app', 'events.jsonl'), text);
  };
  const watcher = client(() => url, 'session:weather-app@ci-7');
  await writeStep(1);
  await waitFor(
    () => (watcher.topic('session:weather-app@ci-7' as 'sessions')?.data ? true : undefined),
    15_000,
    'the forwarded session',
  );

  await central.stop();
  const steps = Math.max(5, Math.floor(FAULT_MS.forwarder / 250));
  for (let n = 2; n <= steps; n++) {
    await writeStep(n);
    await sleep(FAULT_MS.forwarder / steps);
  }
  central = await startServer([...args, '--port', String(port)]);
  processes.push(central);
  const truth = await truthOf<SessionDetail>(
    url,
    'session:weather-app@ci-7',
    (d) => d.status.currentPhase === `Step ${steps}`,
  );
  await converges(watcher, 'session:weather-app@ci-7', truth);
  // From the history, which keeps a session's newest LOG_LINES_KEPT lines (the phase
  // changes' lines among them): every build line from the first kept one to the last.
  const KEPT = LOG_LINES_KEPT - steps - 10;
  let found = 0;
  t.after(() => t.diagnostic(`lines in the history: ${found} of ${line}`));
  const lines = await waitFor(
    () => {
      const db = new DatabaseSync(join(own, 'h.db'), { readOnly: true });
      try {
        const rows = db
          .prepare("SELECT text FROM log_lines WHERE session_key = 'weather-app@ci-7' ORDER BY n")
          .all() as { text: string }[];
        const numbers = rows
          .map((r) => Number(/build line (\d+)/.exec(r.text)?.[1]))
          .filter((n) => !Number.isNaN(n));
        found = numbers.length;
        return numbers.at(-1) === line && numbers.length >= Math.min(line, KEPT)
          ? numbers
          : undefined;
      } finally {
        db.close();
      }
    },
    20_000,
    'every log line in the history',
  );
  const first = line - lines.length + 1;
  assert.deepEqual(
    lines,
    Array.from({ length: lines.length }, (_, i) => first + i),
    'every line, once, in order',
  );
  passed = true;
});
