import assert from 'node:assert/strict';
import { appendFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { LivestreamClient } from '../../src/client/client.ts';
import type { LogLine, SessionDetail } from '../../src/shared/model.ts';
import { runCli, type ServerProcess, startServer, waitFor } from '../helpers/server.ts';
import {
  type PostgresServer,
  type RedisServer,
  startPostgres,
  startRedis,
} from '../helpers/services.ts';
import { converges, Pusher, sleep, truthOf } from './faults.ts';

/**
 * Redis stopped for a while under a write load larger than the writer's
 * queue bound: the queue stays within it (changes past it are kept as their
 * topics' newest states), and once Redis is back every client holds what a
 * fresh client gets, which is what the build wrote.
 */

const AWAY_MS = process.env.LIVESTREAM_FAULTS === 'full' ? 30_000 : 3_000;
const QUEUE_KB = 256;
/** One append past the bound is let in: at most a log topic's whole state (1000 short lines). */
const ONE_APPEND_KB = 256;

let pg: PostgresServer;
let redis: RedisServer;
let dir: string;
const processes: ServerProcess[] = [];
const clients: LivestreamClient[] = [];

before(async () => {
  [pg, redis] = await Promise.all([startPostgres(), startRedis()]);
  dir = await mkdtemp(join(tmpdir(), 'livestream-redis-away-'));
});
after(async () => {
  for (const client of clients) client.close();
  for (const p of processes) await p.stop('SIGKILL');
  await redis?.close();
  await pg?.close();
  await rm(dir, { recursive: true, force: true });
});

async function replica(root: string): Promise<ServerProcess> {
  await mkdir(root, { recursive: true });
  // A lease longer than the outage: this is the writer riding it out, not a failover.
  const bus = `${redis.url}?lease_ms=${AWAY_MS + 15_000}&prefix=away:&queue_kb=${QUEUE_KB}&queue_deltas=2000`;
  const server = await startServer(
    [
      '--root',
      root,
      '--db',
      join(root, 'alerts.db'),
      '--store',
      pg.url,
      '--bus',
      bus,
      '--no-agents',
    ],
    { LIVESTREAM_LOG_LEVEL: 'info' },
  );
  processes.push(server);
  return server;
}

const TOPICS = [
  'sessions',
  'session:away-app',
  'logs:away-app',
  'session:away-push',
  'session:fwd-app@ci-8',
  'logs:fwd-app@ci-8',
];

function client(url: string): LivestreamClient {
  const c = new LivestreamClient({
    url: `${url.replace(/^http/, 'ws')}/ws`,
    backoff: { initialMs: 20, maxMs: 250 },
  });
  for (const t of TOPICS) c.subscribe(t);
  c.connect();
  clients.push(c);
  return c;
}

/** A build writing phase files and log lines, `lines` every `pauseMs`. */
class Build {
  line = 0;
  step = 0;
  #running = false;
  #loop: Promise<void> = Promise.resolve();
  readonly #project: string;

  constructor(
    root: string,
    readonly id: string,
    readonly pace = { lines: 20, pauseMs: 20 },
  ) {
    this.#project = join(root, id);
  }

  async phase(name: string): Promise<void> {
    await writeFile(
      join(this.#project, '.context-foundry', 'current-phase.json'),
      JSON.stringify({
        session_id: this.id,
        current_phase: name,
        phase_number: '4/7',
        status: 'in_progress',
      }),
    );
  }

  async lines(count: number): Promise<void> {
    let text = '';
    for (let i = 0; i < count; i++) {
      this.line++;
      text += `${JSON.stringify({ type: 'log_line', session_id: this.id, sequence: this.line, timestamp: Date.now(), data: { message: `line ${this.line}` } })}\n`;
    }
    await appendFile(join(this.#project, 'logs', 'events', this.id, 'events.jsonl'), text);
  }

  async start(): Promise<void> {
    await mkdir(join(this.#project, '.context-foundry'), { recursive: true });
    await mkdir(join(this.#project, 'logs', 'events', this.id), { recursive: true });
    await this.phase('Step 0');
    this.#running = true;
    this.#loop = (async () => {
      while (this.#running) {
        await this.lines(this.pace.lines);
        if (this.line % (this.pace.lines * 10) === 0) await this.phase(`Step ${++this.step}`);
        await sleep(this.pace.pauseMs);
      }
    })();
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#loop;
  }
}

interface QueueSample {
  bytes: number;
  deltas: number;
  outOfStep: number;
  keptOut: number;
}

async function queueOf(url: string): Promise<QueueSample> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (name: string) => {
    const match = new RegExp(`^${name} (\\d+)`, 'm').exec(text);
    assert.ok(match, `${name} on /metrics`);
    return Number(match[1]);
  };
  return {
    bytes: value('livestream_bus_queued_bytes'),
    deltas: value('livestream_bus_queued_deltas'),
    outOfStep: value('livestream_bus_out_of_step_topics'),
    keptOut: value('livestream_bus_kept_out_total'),
  };
}

test(`Redis away for ${AWAY_MS / 1000} s under a load past the writer's queue bound: the queue stays bounded, every client converges`, async (t) => {
  const rootA = join(dir, 'a');
  const a = await replica(rootA);
  const b = await replica(join(dir, 'b'));
  assert.match(a.output(), /Replica \(writer\)/);
  assert.match(b.output(), /Replica \(follower\)/);
  let passed = false;
  let forwarderOutput = '';
  t.after(() => {
    if (!passed) t.diagnostic(`writer:\n${a.output()}\nfollower:\n${b.output()}`);
    if (!passed) t.diagnostic(`forwarder:\n${forwarderOutput}`);
  });
  const onA = client(a.url);
  const onB = client(b.url);
  // A build in the writer's own root, as fast as the disk lets it: the load past the bound.
  const build = new Build(rootA, 'away-app');
  await build.start();
  // A build machine forwarding to the writer, and an orchestrator pushing to it.
  const machine = join(dir, 'machine');
  const forwarded = new Build(machine, 'fwd-app', { lines: 5, pauseMs: 100 });
  await forwarded.start();
  const forwarder = runCli([
    'forward',
    '--to',
    a.url,
    '--host',
    'ci-8',
    '--root',
    machine,
    '--outbox',
    join(dir, 'outbox.db'),
    '--no-agents',
  ]);
  const collect = (chunk: Buffer) => {
    forwarderOutput += chunk.toString();
  };
  forwarder.stdout?.on('data', collect);
  forwarder.stderr?.on('data', collect);
  const pusher = new Pusher('away-push', () => a.url, 100);
  pusher.start();
  t.after(async () => {
    forwarder.kill('SIGKILL');
    await Promise.all([build.stop(), forwarded.stop(), pusher.stop()]);
  });
  const holds = (topic: string) => onB.topic(topic as 'sessions')?.data != null;
  await waitFor(
    () =>
      holds('logs:away-app') && holds('logs:fwd-app@ci-8') && pusher.acked.length >= 5
        ? true
        : undefined,
    15_000,
    'the builds and the pushes on the follower',
  );
  const calm = await queueOf(a.url);
  assert.deepEqual([calm.outOfStep, calm.keptOut], [0, 0], 'in step while Redis is up');

  await redis.stop();
  const linesBefore = build.line;
  const samples: QueueSample[] = [];
  const until = Date.now() + AWAY_MS;
  while (Date.now() < until) {
    samples.push(await queueOf(a.url));
    await sleep(100);
  }
  const peak = Math.max(...samples.map((s) => s.bytes));
  t.diagnostic(
    `while away: ${build.line - linesBefore} lines written, queue peak ${Math.round(peak / 1024)} KiB / ${Math.max(...samples.map((s) => s.deltas))} deltas, ${samples.at(-1)?.keptOut} deltas kept out, ${Math.max(...samples.map((s) => s.outOfStep))} topics out of step`,
  );
  assert.ok(peak <= (QUEUE_KB + ONE_APPEND_KB) * 1024, `the queue stays bounded (${peak} B)`);
  assert.ok((samples.at(-1)?.keptOut ?? 0) > 0, 'the load went past the bound');
  assert.ok((samples.at(-1)?.outOfStep ?? 0) > 0, 'topics went out of step');
  assert.match(a.output(), /the queue for Redis is full/, 'a log line says so');
  // A push meanwhile is applied, not acknowledged: the answer says so at once, the client retries.
  const refused = await fetch(`${a.url}/api/phase-update`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ session_id: 'away-push', current_phase: 'Away', status: 'in_progress' }),
    signal: AbortSignal.timeout(5000),
  });
  assert.equal(refused.status, 503);
  assert.equal(refused.headers.get('retry-after'), '1');
  const body = (await refused.json()) as { error: string; message: string };
  assert.equal(body.error, 'unavailable');
  assert.match(
    body.message,
    /^Received, but not acknowledged: Redis is not taking the bus's writes/,
  );

  await redis.start();
  await sleep(500);
  await Promise.all([build.stop(), forwarded.stop(), pusher.stop()]);
  for (const b of [build, forwarded]) {
    await b.lines(5);
    await b.phase('Final');
  }
  await pusher.finish('Final');

  await waitFor(() => (a.output().includes('back in step') ? true : undefined), 20_000, 'in step');
  const last = build.line;
  const lastForwarded = forwarded.line;
  const truth = {
    sessions: await truthOf<{ sessions: Record<string, { currentPhase: string }> }>(
      b.url,
      'sessions',
      (d) =>
        ['away-app', 'away-push', 'fwd-app@ci-8'].every(
          (id) => d.sessions[id]?.currentPhase === 'Final',
        ),
    ),
    'session:away-app': await truthOf<SessionDetail>(
      b.url,
      'session:away-app',
      (d) => d.status.currentPhase === 'Final',
    ),
    'logs:away-app': await truthOf<{ lines: LogLine[] }>(b.url, 'logs:away-app', (d) =>
      d.lines.some((l) => l.text.endsWith(`line ${last}`)),
    ),
    'session:away-push': await truthOf<SessionDetail>(
      b.url,
      'session:away-push',
      (d) => d.status.currentPhase === 'Final',
    ),
    'session:fwd-app@ci-8': await truthOf<SessionDetail>(
      b.url,
      'session:fwd-app@ci-8',
      (d) => d.status.currentPhase === 'Final',
    ),
    'logs:fwd-app@ci-8': await truthOf<{ lines: LogLine[] }>(b.url, 'logs:fwd-app@ci-8', (d) =>
      d.lines.some((l) => l.text.endsWith(`line ${lastForwarded}`)),
    ),
  };
  // The follower's fresh client equals the writer's: the replicas agree.
  for (const [topic, data] of Object.entries(truth)) {
    assert.deepEqual(
      await truthOf<unknown>(a.url, topic, () => true),
      data,
      `${topic}: the writer and the follower agree`,
    );
  }
  for (const c of [onA, onB]) {
    for (const [topic, data] of Object.entries(truth)) await converges(c, topic, data);
  }
  // The ground truth on disk: the newest lines, each once, in order, up to the last written.
  const numbers = (lines: LogLine[]) =>
    lines.map((l) => Number(/\bline (\d+)$/.exec(l.text)?.[1])).filter((n) => !Number.isNaN(n));
  // A log topic keeps its last 1000 lines, the session's own (phase changes) among them.
  const newest = (lines: LogLine[], upTo: number, what: string) => {
    const found = numbers(lines);
    assert.equal(found.at(-1), upTo, `${what}: the last line`);
    assert.ok(found.length >= Math.min(upTo, 900), `${what}: the newest lines kept`);
    assert.deepEqual(
      found,
      Array.from({ length: found.length }, (_, i) => upTo - found.length + 1 + i),
      `${what}: every line, once, in order`,
    );
  };
  newest(truth['logs:away-app'].lines, last, 'the writer’s build');
  newest(truth['logs:fwd-app@ci-8'].lines, lastForwarded, 'the forwarded build');
  // And the history has every forwarded line it keeps: what the forwarder was acknowledged for.
  const history = await waitFor(async () => {
    const text = await pg.psql(
      "SELECT text FROM log_lines WHERE session_key = 'fwd-app@ci-8' ORDER BY n",
    );
    const lines = text
      .split('\n')
      .filter(Boolean)
      .map((line) => ({ text: line }) as LogLine);
    return lines.some((l) => l.text.endsWith(`line ${lastForwarded}`)) ? lines : undefined;
  });
  newest(history, lastForwarded, 'the forwarded build’s history');
  t.diagnostic(
    `forwarded: ${lastForwarded} lines; ${forwarderOutput.match(/HTTP 503: Received, but not acknowledged/g)?.length ?? 0} batches answered 503 while Redis was away`,
  );
  const stored = await pg.psql("SELECT to_phase FROM transitions WHERE session_key = 'away-push'");
  const phases = new Set(stored.split('\n').filter(Boolean));
  assert.deepEqual(
    pusher.acked.filter((p) => !phases.has(p)),
    [],
    'every acknowledged push is in the history',
  );
  await waitFor(
    async () => {
      const q = await queueOf(a.url);
      return q.bytes === 0 && q.deltas === 0 && q.outOfStep === 0 ? true : undefined;
    },
    10_000,
    'the queue empty',
  );
  assert.doesNotMatch(a.output() + b.output(), /rebuilding/, 'no replica had to be rebuilt');
  passed = true;
});

test('a writer stopped while Redis is away exits, and the next writer starts from the history', async (t) => {
  const root = join(dir, 'stopping');
  const bus = `${redis.url}?lease_ms=1500&prefix=stopping:`;
  const args = ['--root', root, '--db', join(root, 'alerts.db'), '--store', pg.url, '--bus', bus];
  await mkdir(root, { recursive: true });
  const writer = await startServer([...args, '--no-agents']);
  processes.push(writer);
  const build = new Build(root, 'stop-app');
  await build.start();
  t.after(() => build.stop());
  await redis.stop();
  try {
    await build.lines(5);
    await build.phase('While away');
    await waitFor(
      async () => ((await queueOf(writer.url)).deltas > 0 ? true : undefined),
      10_000,
      'appends waiting for Redis',
    );
    const stopped = Date.now();
    assert.equal(await writer.stop('SIGTERM'), 0, 'a clean exit');
    t.diagnostic(`exited ${Date.now() - stopped} ms after SIGTERM`);
  } finally {
    await redis.start();
  }
  await build.stop();
  const next = await startServer([...args, '--no-agents']);
  processes.push(next);
  const detail = await truthOf<SessionDetail>(
    next.url,
    'session:stop-app',
    (d) => d.status.currentPhase === 'While away',
  );
  assert.equal(detail.status.currentPhase, 'While away', 'what the old writer stored is there');
});
