/**
 * Soak test: a real `livestream serve` child process under demo sessions,
 * pushes, plan edits, client churn and restarts, measured from outside
 * (/proc/<pid>) and from its own /metrics.
 *
 *     node --import tsx scripts/soak.ts --minutes 60 [--json report.json]
 *
 * Pass: after warm-up (following the last restart) memory grows less than
 * 10 MB per hour (scaled to the run, at least 4 MB): the floor of heap in use
 * plus external memory (Buffers; lowest sample, i.e. after GCs), less the
 * bounded replay buffer, always, RSS too for runs of 30 minutes or
 * more (V8 keeps sizing its heap up for minutes, so a short run's RSS says
 * little); the open-fd floor stays flat; and every client that stayed
 * connected holds exactly what a fresh snapshot of the server says.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import WebSocket from 'ws';
import { NODE_FLAGS, runtimeEnv } from '../bin/runtime.mjs';
import { LivestreamClient, type WebSocketConstructor } from '../src/client/index.ts';
import { demoAppName, runDemo } from '../src/demo/index.ts';

const ROOT = join(import.meta.dirname, '..');

export interface SoakOptions {
  minutes: number;
  /** Demo sessions building at once (default 4) and their update rate per second (default 6). */
  sessions?: number;
  rate?: number;
  /** Clients connected for the whole run (default 8). */
  stableClients?: number;
  /** Short-lived connections opened per second (default 4). */
  churnPerSec?: number;
  /** Server restarts, spread over the first quarter of the run (default 2). */
  restarts?: number;
  /** Sampling interval (default: 1/60 of the run, between 2 s and 30 s). */
  sampleMs?: number;
  log?: (line: string) => void;
}

export interface Sample {
  /** Seconds since the start. */
  t: number;
  pid: number;
  rssMb: number;
  heapMb: number;
  /** Buffers and other memory outside the V8 heap (counted in RSS, not in the heap). */
  externalMb: number;
  /** Of which the hub's replay buffer: bounded by its limits, it fills for minutes after a start. */
  replayMb: number;
  fds: number;
  /** inotify watches the server holds: one per watched folder. */
  watches: number;
  loopP99Ms: number;
  updatesReceived: number;
  messagesSent: number;
}

export interface SoakReport {
  minutes: number;
  samples: Sample[];
  /** Seconds from the start when measuring began (after the last restart's warm-up). */
  warmupEndsAt: number;
  rssStartMb: number;
  rssEndMb: number;
  rssGrowthMb: number;
  rssLimitMb: number;
  heapStartMb: number;
  heapEndMb: number;
  /** Growth of the lowest heap-in-use (after GCs) between the first and last quarter. */
  heapFloorGrowthMb: number;
  /** The same for heap + external memory (Buffers) less the replay buffer: the checked floor. */
  memoryFloorGrowthMb: number;
  externalStartMb: number;
  externalEndMb: number;
  replayEndMb: number;
  fdsStart: number;
  fdsEnd: number;
  watchesStart: number;
  watchesEnd: number;
  loopP99MaxMs: number;
  loopP99MedianMs: number;
  restarts: number;
  demoUpdates: number;
  pushesAcked: number;
  planEdits: number;
  churnConnections: number;
  /** Phase updates the server counted (pushes), summed over its lives. */
  serverUpdatesReceived: number;
  /** WebSocket messages the server sent, summed over its lives. */
  serverMessagesSent: number;
  /** Snapshots and deltas the stable clients applied. */
  clientUpdatesApplied: number;
  clientsCompared: number;
  topicsCompared: number;
  mismatches: string[];
  failures: string[];
  pass: boolean;
}

const median = (values: number[]) => {
  const s = [...values].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : (s[Math.floor((s.length - 1) / 2)] as number);
};

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  server.close();
  await once(server, 'close');
  return port;
}

/** The server as a child process on the pinned Node, so /proc/<pid> is the server itself. */
class ServerChild {
  child: ChildProcess | null = null;
  output = '';
  constructor(
    readonly args: string[],
    readonly url: string,
  ) {}

  async start(): Promise<void> {
    this.output = '';
    const child = spawn(
      process.execPath,
      [
        // Memory floors are read right after a full collection (see /metrics), so they
        // measure what is retained, not when V8 last happened to collect.
        '--expose-gc',
        ...NODE_FLAGS,
        join(ROOT, 'dist', 'cli.js'),
        'serve',
        ...this.args,
      ],
      {
        cwd: ROOT,
        env: runtimeEnv({
          ...process.env,
          LIVESTREAM_LOG_LEVEL: 'warn',
          LIVESTREAM_GC_BEFORE_METRICS: '1',
        }),
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.child = child;
    const collect = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString()).slice(-20_000);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    await new Promise<void>((resolve, reject) => {
      const onData = () => {
        // "Watching" once the roots are read, after "Livestream listening on".
        if (/Livestream listening on [\s\S]*\nWatching /.test(this.output)) {
          child.stdout?.off('data', onData);
          child.off('exit', onExit);
          resolve();
        }
      };
      const onExit = (code: number | null) =>
        reject(new Error(`server exited (${code}) before listening:\n${this.output}`));
      child.stdout?.on('data', onData);
      child.once('exit', onExit);
    });
  }

  get pid(): number {
    return this.child?.pid ?? 0;
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

function metricValue(text: string, name: string, labels = ''): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : Number.NaN;
}

/** Watches on the process's inotify instances, from /proc/<pid>/fdinfo (one line each). */
async function inotifyWatches(pid: number): Promise<number> {
  let count = 0;
  for (const fd of await readdir(`/proc/${pid}/fd`)) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    if (target !== 'anon_inode:inotify') continue;
    const info = await readFile(`/proc/${pid}/fdinfo/${fd}`, 'utf8').catch(() => '');
    count += info.split('\n').filter((line) => line.startsWith('inotify wd:')).length;
  }
  return count;
}

async function sample(server: ServerChild, t: number): Promise<Sample | null> {
  const pid = server.pid;
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
    const fds = (await readdir(`/proc/${pid}/fd`)).length;
    const watches = await inotifyWatches(pid);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    return {
      t,
      pid,
      rssMb: rssKb / 1024,
      heapMb: metricValue(metrics, 'nodejs_heap_used_bytes') / 2 ** 20,
      externalMb: (metricValue(metrics, 'nodejs_external_memory_bytes') || 0) / 2 ** 20,
      replayMb: (metricValue(metrics, 'livestream_replay_buffer_bytes') || 0) / 2 ** 20,
      fds,
      watches,
      loopP99Ms: metricValue(metrics, 'nodejs_eventloop_delay_seconds', '{stat="p99"}') * 1000,
      updatesReceived: metricValue(metrics, 'livestream_updates_received_total') || 0,
      messagesSent: metricValue(metrics, 'livestream_ws_messages_sent_total') || 0,
    };
  } catch {
    return null; // restarting
  }
}

/**
 * Runs at least this long are judged on memory. In a shorter run the bounded
 * structures (logs, token series, replay buffer, V8's own sizing) are still
 * filling, and that growth cannot be told from a leak at a few MB: the
 * 2-minute CI run reports memory and judges fds, consistency and survival.
 */
const MEMORY_CHECK_MINUTES = 10;
/** Runs at least this long are judged on RSS too; shorter ones on the heap + external floor only. */
const RSS_CHECK_MINUTES = 30;

const PLAN = 'SOAK-PLAN';
const ACHIEVEMENTS = 12;

/** One edit per call, cycling an achievement through subplan → execution → FIX → APPROVED. */
async function planEdit(root: string, n: number): Promise<void> {
  const dir = join(root, 'work-space', 'plans', PLAN);
  const cycle = ACHIEVEMENTS * 4;
  const step = n % cycle;
  if (step === 0) {
    await rm(dir, { recursive: true, force: true });
    for (const sub of ['subplans', 'execution/feedbacks'])
      await mkdir(join(dir, sub), { recursive: true });
    const index = Array.from(
      { length: ACHIEVEMENTS },
      (_, i) => `- Achievement 1.${i + 1}: Step ${i + 1}`,
    );
    await writeFile(
      join(dir, `PLAN_${PLAN}.md`),
      `# PLAN: Soak\n\n## 📋 Achievement Index\n\n${index.join('\n')}\n`,
    );
  }
  const a = Math.floor(step / 4) + 1;
  const num = `1${a}`;
  const file = [
    join(dir, 'subplans', `SUBPLAN_${PLAN}_${num}.md`),
    join(dir, 'execution', `EXECUTION_TASK_${PLAN}_${num}_01.md`),
    join(dir, 'execution', 'feedbacks', `FIX_${num}.md`),
    join(dir, 'execution', 'feedbacks', `APPROVED_${num}.md`),
  ][step % 4] as string;
  await writeFile(file, `**Achievement**: 1.${a}\n\nedit ${n}\n`);
}

type Raw = Record<string, unknown>;

/** A fresh connection's snapshots of `topics`. */
async function freshSnapshots(wsUrl: string, topics: string[]): Promise<Map<string, unknown>> {
  const ws = new WebSocket(wsUrl);
  const out = new Map<string, unknown>();
  await new Promise<void>((resolve, reject) => {
    ws.on('message', (data) => {
      const m = JSON.parse(String(data)) as Raw;
      if (m.type === 'welcome') ws.send(JSON.stringify({ type: 'subscribe', topics }));
      if (m.type === 'snapshot') out.set(m.topic as string, m.data);
      if (out.size === topics.length) resolve();
    });
    ws.on('error', reject);
  });
  ws.terminate();
  return out;
}

/** Opens a connection, subscribes, and vanishes at a random point (without a close frame). */
async function churnOnce(wsUrl: string, topics: string[], i: number): Promise<void> {
  if (i % 3 === 2) {
    const client = new LivestreamClient({
      url: wsUrl,
      WebSocket: WebSocket as unknown as WebSocketConstructor,
    });
    client.connect();
    const release = client.subscribe(topics[i % topics.length] as string);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 2000);
      const off = client.on(() => {
        if (client.getState().status === 'live') {
          clearTimeout(timer);
          off();
          resolve();
        }
      });
    });
    release();
    client.close();
    return;
  }
  const ws = new WebSocket(wsUrl);
  await new Promise<void>((resolve) => {
    ws.on('message', (data) => {
      const m = JSON.parse(String(data)) as Raw;
      if (m.type === 'welcome') {
        ws.send(
          JSON.stringify({ type: 'subscribe', topics: topics.slice(0, 1 + (i % topics.length)) }),
        );
        if (i % 3 === 1) {
          ws.terminate();
          resolve();
        }
      } else if (m.type === 'snapshot') {
        ws.terminate();
        resolve();
      }
    });
    ws.on('error', () => resolve());
    ws.on('close', () => resolve());
  });
}

/** Where a client's topic differs from the server's, in a few words (first difference only). */
function describeDifference(held: unknown, server: unknown, path = ''): string {
  if (isDeepStrictEqual(held, server)) return 'equal';
  if (Array.isArray(held) && Array.isArray(server)) {
    const i = server.findIndex((v, k) => !isDeepStrictEqual(v, held[k]));
    const at = i < 0 ? held.length - 1 : i;
    const count =
      held.length === server.length
        ? ''
        : ` (${held.length} items held, server has ${server.length})`;
    return `${path}/${at}: held ${JSON.stringify(held[at])?.slice(0, 160)}, server ${JSON.stringify(server[at])?.slice(0, 160)}${count}`;
  }
  if (held && server && typeof held === 'object' && typeof server === 'object') {
    const keys = new Set([...Object.keys(held), ...Object.keys(server)]);
    for (const key of keys) {
      const a = (held as Record<string, unknown>)[key];
      const b = (server as Record<string, unknown>)[key];
      if (!isDeepStrictEqual(a, b)) return describeDifference(a, b, `${path}/${key}`);
    }
  }
  return `${path || '/'}: held ${JSON.stringify(held)?.slice(0, 80)}, server ${JSON.stringify(server)?.slice(0, 80)}`;
}

/** Waits until no stable client saw a change for `quietMs`, at most `timeoutMs`. */
async function quiesce(
  clients: LivestreamClient[],
  quietMs: number,
  timeoutMs: number,
): Promise<void> {
  let last = Date.now();
  const offs = clients.map((c) => c.on(() => (last = Date.now())));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const live = clients.every((c) => c.getState().status === 'live');
    if (live && Date.now() - last >= quietMs) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  for (const off of offs) off();
}

export async function runSoak(opts: SoakOptions): Promise<SoakReport> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const durationMs = opts.minutes * 60_000;
  const sessions = opts.sessions ?? 4;
  const rate = opts.rate ?? 6;
  const restarts = opts.restarts ?? 2;
  const sampleMs = opts.sampleMs ?? Math.min(30_000, Math.max(2_000, durationMs / 60));
  const dir = await mkdtemp(join(tmpdir(), 'livestream-soak-'));
  const root = join(dir, 'root');
  await mkdir(root, { recursive: true });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const wsUrl = `ws://127.0.0.1:${port}/ws`;
  const server = new ServerChild(
    ['--root', root, '--db', join(dir, 'history.db'), '--port', String(port)],
    url,
  );
  const stable: LivestreamClient[] = [];
  const abort = new AbortController();
  const t0 = Date.now();
  const elapsed = () => (Date.now() - t0) / 1000;
  const samples: Sample[] = [];
  const counters = { demoUpdates: 0, pushesAcked: 0, planEdits: 0, churn: 0, restarts: 0 };
  let lastRestartAt = 0;
  try {
    await server.start();
    log(`soak: server pid ${server.pid} on ${url}, ${opts.minutes} min`);

    // Demo rounds with recurring tags: sessions restart instead of piling up, so state stays bounded.
    const tags = ['a', 'b'];
    const sessionIds = tags.flatMap((tag) =>
      Array.from({ length: sessions }, (_, i) => `${demoAppName(i)}-soak${tag}`),
    );
    const demo = (async () => {
      for (let round = 0; !abort.signal.aborted; round++) {
        const summary = await runDemo(
          { root, sessions, rate, once: true, tag: `soak${tags[round % tags.length]}` },
          abort.signal,
        );
        counters.demoUpdates += summary.updates;
      }
    })();

    const topics = [
      'sessions',
      'plans',
      `plan:${PLAN}`,
      'analytics',
      'session:soak-push',
      ...sessionIds.flatMap((id) => [`session:${id}`, `logs:${id}`, `metrics:${id}`]),
    ];
    const stableCount = opts.stableClients ?? 8;
    for (let i = 0; i < stableCount; i++) {
      const client = new LivestreamClient({
        url: wsUrl,
        WebSocket: WebSocket as unknown as WebSocketConstructor,
        backoff: { initialMs: 200, maxMs: 1000 },
      });
      client.connect();
      // Each holds a different slice of the topics, all hold the lists.
      for (const [k, name] of topics.entries())
        if (k < 4 || k % stableCount === i) client.subscribe(name);
      stable.push(client);
    }

    const every = (ms: number, fn: (n: number) => Promise<void>) =>
      (async () => {
        for (let n = 0; !abort.signal.aborted; n++) {
          await fn(n).catch(() => undefined);
          await new Promise((r) => setTimeout(r, ms));
        }
      })();
    const phases = ['Scout', 'Architect', 'Builder', 'Test', 'Deploy'];
    const pushes = every(500, async (n) => {
      const response = await fetch(`${url}/api/phase-update`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          session_id: 'soak-push',
          current_phase: phases[n % phases.length],
          phase_number: `${(n % phases.length) + 1}/${phases.length}`,
          status: 'in_progress',
          progress_detail: `push ${n}`,
        }),
      });
      await response.arrayBuffer();
      if (response.ok) counters.pushesAcked++;
    });
    const plans = every(Math.max(200, 1000 / 2), async (n) => {
      await planEdit(root, n);
      counters.planEdits++;
    });
    const churnMs = 1000 / (opts.churnPerSec ?? 4);
    const churn = every(churnMs, async (n) => {
      counters.churn++;
      await churnOnce(wsUrl, topics, n);
    });

    const restartTimes = Array.from(
      { length: restarts },
      (_, i) => ((i + 1) * durationMs * 0.25) / (restarts + 1),
    );
    const lives: Sample[][] = [[]];
    while (Date.now() - t0 < durationMs) {
      const due = restartTimes[counters.restarts];
      if (due !== undefined && Date.now() - t0 >= due) {
        log(`soak: restart ${counters.restarts + 1} at ${elapsed().toFixed(0)} s`);
        await server.stop('SIGTERM');
        await server.start();
        counters.restarts++;
        lastRestartAt = elapsed();
        lives.push([]);
      }
      const s = await sample(server, elapsed());
      if (s) {
        samples.push(s);
        lives.at(-1)?.push(s);
        log(
          `soak: t=${s.t.toFixed(0)}s rss=${s.rssMb.toFixed(1)}MB heap=${s.heapMb.toFixed(1)}MB ext=${s.externalMb.toFixed(1)}MB replay=${s.replayMb.toFixed(1)}MB fds=${s.fds} watches=${s.watches} loop_p99=${s.loopP99Ms.toFixed(1)}ms updates=${s.updatesReceived} sent=${s.messagesSent}`,
        );
      }
      await new Promise((r) => setTimeout(r, sampleMs));
    }

    abort.abort();
    await Promise.all([demo, pushes, plans, churn]);
    // Let the watcher deliver the last writes and the clients catch up.
    await quiesce(stable, 2000, 30_000);
    const final = await sample(server, elapsed());
    if (final) {
      samples.push(final);
      lives.at(-1)?.push(final);
    }

    const mismatches: string[] = [];
    let topicsCompared = 0;
    for (const [i, client] of stable.entries()) {
      const held = Object.keys(client.getSnapshot().topics);
      const fresh = await freshSnapshots(wsUrl, held);
      for (const name of held) {
        topicsCompared++;
        if (
          !isDeepStrictEqual(
            client.topic(name as 'sessions')?.data ?? null,
            fresh.get(name) ?? null,
          )
        ) {
          mismatches.push(
            `client ${i}: ${name}: ${describeDifference(client.topic(name as 'sessions')?.data ?? null, fresh.get(name) ?? null)}`,
          );
        }
      }
    }

    const warmupEndsAt = lastRestartAt + Math.max(10, (durationMs / 1000 - lastRestartAt) * 0.2);
    const measured = samples.filter((s) => s.t >= warmupEndsAt && s.pid === server.pid);
    const head = measured.slice(0, Math.max(1, Math.ceil(measured.length / 4)));
    const tail = measured.slice(-Math.max(1, Math.ceil(measured.length / 4)));
    const rssStartMb = median(head.map((s) => s.rssMb));
    const rssEndMb = median(tail.map((s) => s.rssMb));
    const rssGrowthMb = rssEndMb - rssStartMb;
    const rssLimitMb = Math.max(4, (10 * opts.minutes) / 60);
    const fdsStart = Math.min(...head.map((s) => s.fds));
    const fdsEnd = Math.min(...tail.map((s) => s.fds));
    const watchesStart = Math.min(...head.map((s) => s.watches));
    const watchesEnd = Math.min(...tail.map((s) => s.watches));
    const loops = measured.map((s) => s.loopP99Ms).filter(Number.isFinite);
    const sumLives = (key: 'updatesReceived' | 'messagesSent') =>
      lives.reduce((sum, life) => sum + Math.max(0, ...life.map((s) => s[key])), 0);
    const clientUpdatesApplied = stable.reduce(
      (sum, c) => sum + c.stats.snapshots + c.stats.applied,
      0,
    );

    const failures: string[] = [];
    if (measured.length < 4) failures.push(`only ${measured.length} samples after warm-up`);
    const floor = (list: Sample[], f: (s: Sample) => number) => Math.min(...list.map(f));
    const heapFloorGrowthMb = floor(tail, (s) => s.heapMb) - floor(head, (s) => s.heapMb);
    // Buffers live outside the heap: a leak of them (pinned pool chunks, once) shows only here
    // and in RSS. The replay buffer's own bytes are left out: it fills up to its byte/count
    // limit (unit-tested) for minutes after a start; what it pins beyond its bytes still counts.
    const js = (s: Sample) => s.heapMb + s.externalMb - s.replayMb;
    const memoryFloorGrowthMb = floor(tail, js) - floor(head, js);
    if (opts.minutes >= MEMORY_CHECK_MINUTES && !(memoryFloorGrowthMb < rssLimitMb)) {
      failures.push(
        `heap + external memory floor (replay buffer excluded) grew ${memoryFloorGrowthMb.toFixed(1)} MB after warm-up (limit ${rssLimitMb.toFixed(1)} MB)`,
      );
    }
    // V8 sizes its heap up for many minutes, so RSS says little in a short run.
    if (opts.minutes >= RSS_CHECK_MINUTES && !(rssGrowthMb < rssLimitMb)) {
      failures.push(
        `RSS grew ${rssGrowthMb.toFixed(1)} MB after warm-up (limit ${rssLimitMb.toFixed(1)} MB)`,
      );
    }
    if (fdsEnd - fdsStart > 3) failures.push(`open fds rose from ${fdsStart} to ${fdsEnd}`);
    // The soak's folders are re-created, never added to: a watch kept on a deleted folder shows here.
    if (watchesEnd - watchesStart > 3)
      failures.push(`inotify watches rose from ${watchesStart} to ${watchesEnd}`);
    if (mismatches.length > 0)
      failures.push(`${mismatches.length} client topics differ from the server`);
    if (topicsCompared === 0) failures.push('no client topic was compared');
    if (counters.pushesAcked === 0 || counters.demoUpdates === 0)
      failures.push('no load was applied');
    if (counters.restarts !== restarts)
      failures.push(`${counters.restarts} of ${restarts} restarts done`);

    return {
      minutes: opts.minutes,
      samples,
      warmupEndsAt,
      rssStartMb,
      rssEndMb,
      rssGrowthMb,
      rssLimitMb,
      heapStartMb: median(head.map((s) => s.heapMb)),
      heapEndMb: median(tail.map((s) => s.heapMb)),
      heapFloorGrowthMb,
      memoryFloorGrowthMb,
      externalStartMb: median(head.map((s) => s.externalMb)),
      externalEndMb: median(tail.map((s) => s.externalMb)),
      replayEndMb: median(tail.map((s) => s.replayMb)),
      fdsStart,
      fdsEnd,
      watchesStart,
      watchesEnd,
      loopP99MaxMs: loops.length > 0 ? Math.max(...loops) : Number.NaN,
      loopP99MedianMs: median(loops),
      restarts: counters.restarts,
      demoUpdates: counters.demoUpdates,
      pushesAcked: counters.pushesAcked,
      planEdits: counters.planEdits,
      churnConnections: counters.churn,
      serverUpdatesReceived: sumLives('updatesReceived'),
      serverMessagesSent: sumLives('messagesSent'),
      clientUpdatesApplied,
      clientsCompared: stable.length,
      topicsCompared,
      mismatches,
      failures,
      pass: failures.length === 0,
    };
  } finally {
    abort.abort();
    for (const client of stable) client.close();
    await server.stop('SIGTERM');
    await rm(dir, { recursive: true, force: true });
  }
}

/** One paragraph of figures, as docs/reliability.md quotes them. */
export function formatReport(r: SoakReport): string {
  return [
    `soak ${r.minutes} min: ${r.pass ? 'PASS' : 'FAIL'}`,
    `  RSS ${r.rssStartMb.toFixed(1)} → ${r.rssEndMb.toFixed(1)} MB after warm-up (growth ${r.rssGrowthMb.toFixed(1)} MB, limit ${r.rssLimitMb.toFixed(1)} MB); heap ${r.heapStartMb.toFixed(1)} → ${r.heapEndMb.toFixed(1)} MB (floor +${r.heapFloorGrowthMb.toFixed(1)} MB); external ${r.externalStartMb.toFixed(1)} → ${r.externalEndMb.toFixed(1)} MB (replay buffer ${r.replayEndMb.toFixed(1)} MB); heap + external − replay floor +${r.memoryFloorGrowthMb.toFixed(1)} MB`,
    `  open fds ${r.fdsStart} → ${r.fdsEnd}; inotify watches ${r.watchesStart} → ${r.watchesEnd}; event-loop delay p99 median ${r.loopP99MedianMs.toFixed(1)} ms, max ${r.loopP99MaxMs.toFixed(1)} ms`,
    `  load: ${r.demoUpdates} demo updates, ${r.pushesAcked} pushes, ${r.planEdits} plan edits, ${r.churnConnections} churned connections, ${r.restarts} restarts`,
    `  server: ${r.serverUpdatesReceived} updates received, ${r.serverMessagesSent} WS messages sent; stable clients applied ${r.clientUpdatesApplied}`,
    `  clients: ${r.clientsCompared} compared on ${r.topicsCompared} topics, ${r.mismatches.length} mismatches`,
    ...r.failures.map((f) => `  FAIL: ${f}`),
  ].join('\n');
}

async function main(argv: string[]): Promise<void> {
  const arg = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const minutes = Number(arg('minutes') ?? 60);
  if (!(minutes > 0)) {
    process.stderr.write('usage: soak.ts --minutes <n> [--json <file>]\n');
    process.exitCode = 2;
    return;
  }
  const report = await runSoak({ minutes });
  process.stdout.write(`${formatReport(report)}\n`);
  const json = arg('json');
  if (json) await writeFile(json, `${JSON.stringify(report, null, 2)}\n`);
  process.exitCode = report.pass ? 0 : 1;
}

if (process.argv[1] && import.meta.filename === process.argv[1]) await main(process.argv.slice(2));
