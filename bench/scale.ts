import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { statSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { runDemo } from '../src/demo/index.ts';
import { runCli, startServer } from '../test/helpers/server.ts';
import { startPostgres, startRedis } from '../test/helpers/services.ts';
import { percentile, printTable } from './stats.ts';

/**
 * Issue 17's figures. A fleet: N `livestream forward` processes, each on its
 * own folder where demo builds run, shipping to replica A of two `serve
 * --bus` replicas (one Redis, one PostgreSQL); protocol clients spread over
 * both replicas. A probe build per machine is rewritten in rounds: the time
 * from its file write to each client's delta, for clients on the other
 * replica (B) and on A. Then the same machines and clients on one embedded
 * `serve` (SQLite, in-process bus), the baseline, in the same run.
 *
 * The issue's 20 forwarders × 200 clients do not fit a 2-core machine shared
 * with other work beside two replicas, PostgreSQL and Redis: the default is 4
 * × 40 (`--forwarders N --clients M` for more). Also measured: one idle
 * forwarder's CPU and RSS on a quiet folder.
 */
const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const FORWARDERS = arg('--forwarders', 4);
const CLIENTS = arg('--clients', 40);
const ROUNDS = arg('--rounds', process.argv.includes('--quick') ? 10 : 30);
const BUILDS = arg('--builds', 5);
const IDLE_SECONDS = arg('--idle-seconds', process.argv.includes('--quick') ? 5 : 20);

interface Setup {
  /** Where forwarders send. */
  ingest: string;
  /** Where each client connects (spread), and whether it is the "other" replica. */
  clientUrls: { url: string; other: boolean }[];
  stop(): Promise<void>;
  /** PostgreSQL rows and bytes now, when there is a PostgreSQL. */
  size?: () => Promise<{ rows: number; bytes: number }>;
  /** Bytes and commands Redis received so far, when there is a Redis. */
  redisTraffic?: () => Promise<{ bytes: number; commands: number; seq: number }>;
}

interface Figures {
  p50Other: number;
  p99Other: number;
  p50Same: number;
  p99Same: number;
  deltasPerSecond: number;
  /** Forwarded events applied per batch, and a batch's mean time on the server (arrival → ack). */
  eventsPerBatch: number;
  /** Forwarded events the server applied per second, sustained over the rounds. */
  eventsPerSecond: number;
  batchMs: number;
  /** One forwarder's mean CPU while the rounds ran, % of a core (ticks are 10 ms). */
  forwarderCpu: number;
  /** Probe deliveries not there by the end of their round (3 s). */
  late: number;
  lost: number;
}

async function scaled(dir: string): Promise<Setup> {
  const [pg, redis] = await Promise.all([startPostgres(), startRedis()]);
  const replica = async (name: string) => {
    const root = join(dir, name);
    await mkdir(root, { recursive: true });
    return startServer([
      '--root',
      root,
      '--db',
      join(root, 'alerts.db'),
      '--store',
      pg.url,
      '--bus',
      redis.url,
      '--no-agents',
    ]);
  };
  const probe = new Redis(redis.url, { lazyConnect: true });
  await probe.connect();
  const a = await replica('replica-a');
  const b = await replica('replica-b');
  const tables = async () => {
    const names = (
      await pg.psql("SELECT relname FROM pg_stat_user_tables WHERE schemaname = 'public'")
    )
      .split('\n')
      .filter(Boolean);
    let rows = 0;
    for (const t of names) rows += Number(await pg.psql(`SELECT count(*) FROM "${t}"`));
    const bytes = Number(
      await pg.psql(
        "SELECT coalesce(sum(pg_total_relation_size(relid)), 0) FROM pg_stat_user_tables WHERE schemaname = 'public'",
      ),
    );
    return { rows, bytes };
  };
  return {
    ingest: a.url,
    clientUrls: Array.from({ length: CLIENTS }, (_, i) =>
      i % 2 === 0 ? { url: b.url, other: true } : { url: a.url, other: false },
    ),
    size: tables,
    redisTraffic: async () => {
      const info = await probe.info('stats');
      const stat = (name: string) => Number(new RegExp(`${name}:(\\d+)`).exec(info)?.[1]);
      return {
        bytes: stat('total_net_input_bytes'),
        commands: stat('total_commands_processed'),
        seq: Number(await probe.get('livestream:seq')),
      };
    },
    stop: async () => {
      probe.disconnect();
      await b.stop();
      await a.stop();
      await redis.close();
      await pg.close();
    },
  };
}

async function embedded(dir: string): Promise<Setup> {
  const root = join(dir, 'embedded');
  await mkdir(root, { recursive: true });
  const db = join(root, 'h.db');
  const server = await startServer(['--root', root, '--db', db, '--no-agents']);
  return {
    ingest: server.url,
    size: async () => {
      const reader = new DatabaseSync(db, { readOnly: true });
      try {
        const tables = reader
          .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
          )
          .all() as { name: string }[];
        let rows = 0;
        for (const { name } of tables) {
          rows += Number(
            (reader.prepare(`SELECT count(*) AS n FROM "${name}"`).get() as { n: number }).n,
          );
        }
        const bytes = [db, `${db}-wal`].reduce(
          (sum, f) => sum + (statSync(f, { throwIfNoEntry: false })?.size ?? 0),
          0,
        );
        return { rows, bytes };
      } finally {
        reader.close();
      }
    },
    clientUrls: Array.from({ length: CLIENTS }, () => ({ url: server.url, other: false })),
    stop: async () => {
      await server.stop();
    },
  };
}

/** The ingest's counters on `/metrics` (see src/server/routes/forward.ts). */
async function ingestFigures(url: string) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (line: RegExp) => Number(line.exec(text)?.[1] ?? 0);
  return {
    batches: value(/^livestream_forward_batches_total (\S+)$/m),
    events: value(/^livestream_forward_events_total\{result="applied"\} (\S+)$/m),
    seconds: value(/^livestream_forward_batch_seconds_sum (\S+)$/m),
  };
}

/** CPU time a process has used, in ticks of 10 ms (Linux /proc). */
async function cpuTicks(pid: number | undefined): Promise<number> {
  const stat = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]?.split(' ');
  return Number(stat?.[11]) + Number(stat?.[12]);
}

/** One machine: a forwarder process, its demo builds, and a probe build the bench rewrites. */
async function machine(dir: string, i: number, to: string) {
  const root = join(dir, `machine-${i}`);
  const probe = join(root, 'probe', '.context-foundry');
  await mkdir(probe, { recursive: true });
  const host = `fw-${i}`;
  const child = runCli([
    'forward',
    '--to',
    to,
    '--host',
    host,
    '--root',
    root,
    '--outbox',
    join(root, 'outbox.db'),
  ]);
  // Five builds at once, each to its end (15 steps), about 15 s.
  const demo =
    BUILDS > 0
      ? runDemo({ root, sessions: BUILDS, rate: 5, once: true, tag: `m${i}` })
      : Promise.resolve({ sessions: 0 });
  // Synchronous: under load the thread pool queues the demo's writes, and an async
  // write would count its wait there as pipeline latency.
  const writeProbe = (k: number) =>
    writeFileSync(
      join(probe, 'current-phase.json'),
      JSON.stringify({
        session_id: `probe-${i}`,
        current_phase: 'Builder',
        phase_number: '4/7',
        status: 'in_progress',
        progress_detail: `probe ${k}`,
      }),
    );
  writeProbe(0);
  return {
    topic: `session:probe-${i}@${host}`,
    child,
    writeProbe,
    ticks: () => cpuTicks(child.pid),
    stop: async () => {
      const summary = await demo;
      // The last steps reach the server before the forwarder stops.
      await sleep(2000);
      child.kill('SIGTERM');
      if (child.exitCode === null) await once(child, 'exit');
      return summary.sessions;
    },
  };
}

async function measure(setup: Setup, dir: string): Promise<Figures & { builds: number }> {
  const machines = await Promise.all(
    Array.from({ length: FORWARDERS }, (_, i) => machine(dir, i, setup.ingest)),
  );
  const seen = new Map<string, number>();
  const latencies = { other: [] as number[], same: [] as number[] };
  const byRound = new Map<number, number[]>();
  let delivered = 0;
  const writtenAt = new Map<string, number>();
  /** Clients that hold their machine's probe (round 0, written at start). */
  const ready = new Set<number>();
  const sockets = await Promise.all(
    setup.clientUrls.map(async ({ url, other }, j) => {
      const target = machines[j % machines.length];
      const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/ws`);
      await once(ws, 'open');
      ws.send(JSON.stringify({ type: 'subscribe', topics: [target?.topic] }));
      ws.on('message', (data) => {
        delivered++;
        const text = String(data);
        const m = /probe (\d+)"/.exec(text);
        if (!m) return;
        if (m[1] === '0') ready.add(j);
        const key = `${j % machines.length}:${m[1]}`;
        const at = writtenAt.get(key);
        if (at === undefined) return;
        const mark = `${j}:${key}`;
        if (seen.has(mark)) return;
        seen.set(mark, 1);
        const took = performance.now() - at;
        (other ? latencies.other : latencies.same).push(took);
        const round = Number(m[1]);
        byRound.set(round, [...(byRound.get(round) ?? []), took]);
      });
      return ws;
    }),
  );
  // Every client holds its machine's probe before the rounds start: twenty forwarders take a
  // few seconds of CPU to start on two cores, and that is start-up, not the hop being measured.
  const readyBy = performance.now() + 60_000;
  while (ready.size < sockets.length && performance.now() < readyBy) await sleep(20);
  await sleep(Number(process.env.SCALE_SETTLE ?? 3000));
  const started = performance.now();
  const deliveredBefore = delivered;
  const forwarderTicks = async () => {
    let sum = 0;
    for (const m of machines) sum += await m.ticks();
    return sum;
  };
  const ticksBefore = await forwarderTicks();
  const ingestBefore = await ingestFigures(setup.ingest);
  let expected = 0;
  for (let k = 1; k <= ROUNDS; k++) {
    machines.forEach((m, i) => {
      writtenAt.set(`${i}:${k}`, performance.now());
      m.writeProbe(k);
    });
    expected += setup.clientUrls.length;
    const deadline = performance.now() + 3000;
    while (seen.size < expected && performance.now() < deadline) await sleep(5);
    await sleep(100);
  }
  const seconds = (performance.now() - started) / 1000;
  const forwarderCpu = ((await forwarderTicks()) - ticksBefore) / machines.length / seconds;
  const ingestAfter = await ingestFigures(setup.ingest);
  const batches = ingestAfter.batches - ingestBefore.batches;
  const late = expected - seen.size;
  // Late is not lost: a delivery still on its way gets 30 s more before it counts as lost.
  const settleBy = performance.now() + 30_000;
  while (seen.size < expected && performance.now() < settleBy) await sleep(50);
  const figures = {
    p50Other: percentile(latencies.other, 50),
    p99Other: percentile(latencies.other, 99),
    p50Same: percentile(latencies.same, 50),
    p99Same: percentile(latencies.same, 99),
    deltasPerSecond: (delivered - deliveredBefore) / seconds,
    late,
    lost: expected - seen.size,
    forwarderCpu,
    eventsPerBatch: (ingestAfter.events - ingestBefore.events) / batches,
    eventsPerSecond: (ingestAfter.events - ingestBefore.events) / seconds,
    batchMs: ((ingestAfter.seconds - ingestBefore.seconds) * 1000) / batches,
  };
  if (process.env.SCALE_ROUNDS)
    for (const [k, v] of [...byRound].sort((a, b) => a[0] - b[0]))
      process.stdout.write(
        `round ${k}: p50 ${percentile(v, 50).toFixed(0)} max ${percentile(v, 100).toFixed(0)}\n`,
      );
  for (const ws of sockets) ws.close();
  let builds = 0;
  for (const builtHere of await Promise.all(machines.map((m) => m.stop()))) builds += builtHere;
  return { ...figures, builds: builds + machines.length };
}

/** CPU (% of one core) and RSS of one forwarder on a quiet folder, after it settled. */
async function idleForwarder(dir: string, to: string): Promise<{ cpu: number; rssMb: number }> {
  const root = join(dir, 'quiet');
  await mkdir(join(root, 'project', '.context-foundry'), { recursive: true });
  const child: ChildProcess = runCli([
    'forward',
    '--to',
    to,
    '--host',
    'quiet',
    '--root',
    root,
    '--outbox',
    join(dir, 'quiet.db'),
  ]);
  await sleep(3000);
  const ticks = () => cpuTicks(child.pid);
  const before = await ticks();
  const t0 = performance.now();
  await sleep(IDLE_SECONDS * 1000);
  const used = (await ticks()) - before;
  const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
  const cpu = ((used / 100) * 1000 * 100) / (performance.now() - t0);
  child.kill('SIGTERM');
  await once(child, 'exit');
  return { cpu, rssMb: rssKb / 1024 };
}

export async function run(): Promise<Record<string, number>> {
  const dir = await mkdtemp(join(tmpdir(), 'livestream-bench-scale-'));
  const out: Record<string, number> = {};
  try {
    const fleet = await scaled(join(dir, 'scaled'));
    const empty = await fleet.size?.();
    const trafficBefore = await fleet.redisTraffic?.();
    const s = await measure(fleet, join(dir, 'scaled'));
    const full = await fleet.size?.();
    const trafficAfter = await fleet.redisTraffic?.();
    if (trafficBefore && trafficAfter) {
      const published = trafficAfter.seq - trafficBefore.seq;
      out['deltas published (replicas)'] = published;
      out['redis KiB received per delta published'] =
        (trafficAfter.bytes - trafficBefore.bytes) / 1024 / published;
      out['redis commands per delta published'] =
        (trafficAfter.commands - trafficBefore.commands) / published;
    }
    if (empty && full) {
      out['postgres rows per build'] = (full.rows - empty.rows) / s.builds;
      out['postgres KiB per build'] = (full.bytes - empty.bytes) / 1024 / s.builds;
    }
    const idle = await idleForwarder(dir, fleet.ingest);
    await fleet.stop();
    const base = await embedded(join(dir, 'embedded'));
    const emptyHere = await base.size?.();
    const e = await measure(base, join(dir, 'embedded'));
    await base.stop();
    // After the stop: closing folds the WAL into the file, so its size is what the history takes.
    const fullHere = await base.size?.();
    if (emptyHere && fullHere) {
      out['embedded SQLite rows per build'] = (fullHere.rows - emptyHere.rows) / e.builds;
      out['embedded SQLite KiB per build'] = (fullHere.bytes - emptyHere.bytes) / 1024 / e.builds;
    }
    printTable(`Scale: ${FORWARDERS} forwarders × ${BUILDS} demo builds, ${CLIENTS} clients`, {
      'write → client on the other replica p50 ms': s.p50Other,
      'write → client on the other replica p99 ms': s.p99Other,
      'write → client on the writer replica p50 ms': s.p50Same,
      'write → client on the writer replica p99 ms': s.p99Same,
      'embedded (forward → one serve) p50 ms': e.p50Same,
      'embedded (forward → one serve) p99 ms': e.p99Same,
      'p99 ratio: other replica / embedded': s.p99Other / e.p99Same,
      'deltas delivered /s (replicas)': s.deltasPerSecond,
      'deltas delivered /s (embedded)': e.deltasPerSecond,
      'probe deliveries late, > 3 s (replicas)': s.late,
      'probe deliveries late, > 3 s (embedded)': e.late,
      'probe deliveries lost (replicas)': s.lost,
      'probe deliveries lost (embedded)': e.lost,
      'forwarded events applied /s (replicas)': s.eventsPerSecond,
      'forwarded events applied /s (embedded)': e.eventsPerSecond,
      'forwarded events per batch (replicas)': s.eventsPerBatch,
      'forwarded events per batch (embedded)': e.eventsPerBatch,
      'forward batch ms on the writer, arrival → ack (replicas)': s.batchMs,
      'forward batch ms on the server, arrival → ack (embedded)': e.batchMs,
      'forwarder CPU % of a core while measuring (replicas)': s.forwarderCpu,
      'forwarder CPU % of a core while measuring (embedded)': e.forwarderCpu,
      'idle forwarder CPU % of a core': idle.cpu,
      'idle forwarder RSS MiB': idle.rssMb,
      ...out,
    });
    Object.assign(out, {
      'p50 ms other replica': s.p50Other,
      'p99 ms other replica': s.p99Other,
      'p50 ms embedded': e.p50Same,
      'p99 ms embedded': e.p99Same,
      'p99 ratio replica/embedded': s.p99Other / e.p99Same,
      'deltas/s replicas': s.deltasPerSecond,
      'events/s replicas': s.eventsPerSecond,
      'events/s embedded': e.eventsPerSecond,
      'late replicas': s.late,
      'lost replicas': s.lost,
      'lost embedded': e.lost,
      'forwarder cpu % measuring': s.forwarderCpu,
      'idle forwarder cpu %': idle.cpu,
      'idle forwarder rss MiB': idle.rssMb,
    });
    return out;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
