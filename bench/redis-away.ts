import { appendFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LivestreamClient } from '../src/client/client.ts';
import { type ServerProcess, startServer } from '../test/helpers/server.ts';
import {
  type PostgresServer,
  type RedisServer,
  startPostgres,
  startRedis,
} from '../test/helpers/services.ts';
import { printTable } from './stats.ts';

/**
 * `npm run bench -- redis-away [--seconds N] [--quick]`: a `serve --bus`
 * writer whose Redis is stopped for N seconds (20; 10 with --quick) while a
 * build in its root writes about 1,000 log lines a second. Two passes in one
 * run: the writer's default queue bound, then a bound too large to reach
 * (what the writer did before it had one: every append queued). Reports the
 * writer's heap (after a full collection) through the outage and how long it
 * took to be back in step once Redis returned.
 */

const args = process.argv.slice(2);
const secondsFlag = args.indexOf('--seconds');
const SECONDS =
  secondsFlag >= 0 ? Number(args[secondsFlag + 1]) : args.includes('--quick') ? 10 : 20;
const MB = 1024 * 1024;

interface Pass {
  heapStart: number;
  heapEnd: number;
  heapPeak: number;
  /** Heap growth over the outage's second half: what a longer outage would keep adding. */
  lateGrowth: number;
  recoverMs: number;
  keptOut: number;
  lines: number;
}

async function metrics(url: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const match of text.matchAll(/^([a-z_]+) ([0-9.e+-]+)$/gm)) {
    out[match[1] as string] = Number(match[2]);
  }
  return out;
}

async function pass(
  label: string,
  query: string,
  pg: PostgresServer,
  redis: RedisServer,
): Promise<Pass> {
  const dir = await mkdtemp(join(tmpdir(), `livestream-bench-redis-away-${label}-`));
  const project = join(dir, 'root', 'away-app');
  await mkdir(join(project, '.context-foundry'), { recursive: true });
  await mkdir(join(project, 'logs', 'events', 'away-app'), { recursive: true });
  await writeFile(
    join(project, '.context-foundry', 'current-phase.json'),
    JSON.stringify({ session_id: 'away-app', current_phase: 'Build', status: 'in_progress' }),
  );
  let writer: ServerProcess | null = null;
  let client: LivestreamClient | null = null;
  let running = true;
  let line = 0;
  let load: Promise<void> = Promise.resolve();
  try {
    const bus = `${redis.url}?lease_ms=${SECONDS * 1000 + 15_000}&prefix=${label}:${query}`;
    writer = await startServer(
      [
        '--root',
        join(dir, 'root'),
        '--db',
        join(dir, 'alerts.db'),
        '--store',
        pg.url,
        '--bus',
        bus,
        '--no-agents',
      ],
      { NODE_OPTIONS: '--expose-gc', LIVESTREAM_GC_BEFORE_METRICS: '1' },
    );
    const url = writer.url;
    client = new LivestreamClient({ url: `${url.replace(/^http/, 'ws')}/ws` });
    client.subscribe('logs:away-app');
    client.connect();
    load = (async () => {
      while (running) {
        let text = '';
        for (let i = 0; i < 20; i++) {
          line++;
          text += `${JSON.stringify({ type: 'log_line', session_id: 'away-app', sequence: line, timestamp: Date.now(), data: { message: `line ${line}` } })}\n`;
        }
        await appendFile(join(project, 'logs', 'events', 'away-app', 'events.jsonl'), text);
        await sleep(20);
      }
    })();
    await sleep(2000);
    await redis.stop();
    const heap: number[] = [];
    const started = Date.now();
    while (Date.now() - started < SECONDS * 1000) {
      heap.push((await metrics(url)).nodejs_heap_size_used_bytes ?? 0);
      await sleep((SECONDS * 1000) / 10);
    }
    const last = await metrics(url);
    heap.push(last.nodejs_heap_size_used_bytes ?? 0);
    await redis.start();
    const back = Date.now();
    for (;;) {
      const m = await metrics(url);
      if (m.livestream_bus_queued_deltas === 0 && m.livestream_bus_out_of_step_topics === 0) break;
      if (Date.now() - back > 120_000) throw new Error(`${label}: not back in step after 120 s`);
      await sleep(20);
    }
    const recoverMs = Date.now() - back;
    const half = heap[Math.floor(heap.length / 2)] ?? 0;
    return {
      heapStart: heap[0] ?? 0,
      heapEnd: heap.at(-1) ?? 0,
      heapPeak: Math.max(...heap),
      lateGrowth: (heap.at(-1) ?? 0) - half,
      recoverMs,
      keptOut: last.livestream_bus_kept_out_total ?? 0,
      lines: line,
    };
  } finally {
    running = false;
    await load;
    client?.close();
    await writer?.stop('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
}

export async function run(): Promise<Record<string, number>> {
  const [pg, redis] = await Promise.all([startPostgres(), startRedis()]);
  try {
    const bounded = await pass('bounded', '', pg, redis);
    const unbounded = await pass(
      'unbounded',
      '&queue_kb=4194304&queue_deltas=100000000',
      pg,
      redis,
    );
    const out: Record<string, number> = {};
    for (const [name, p] of [
      ['bounded (default)', bounded],
      ['unbounded (as before)', unbounded],
    ] as const) {
      out[`${name}: heap at the outage's start (MB)`] = +(p.heapStart / MB).toFixed(1);
      out[`${name}: heap growth over the outage (MB)`] = +((p.heapEnd - p.heapStart) / MB).toFixed(
        1,
      );
      out[`${name}: heap growth over its second half (MB)`] = +(p.lateGrowth / MB).toFixed(1);
      out[`${name}: back in step after Redis returned (ms)`] = p.recoverMs;
      out[`${name}: deltas kept out`] = p.keptOut;
    }
    out['outage (s)'] = SECONDS;
    out['log lines written per second'] = Math.round(bounded.lines / (SECONDS + 2));
    out['heap growth, unbounded / bounded'] = +(
      (unbounded.heapEnd - unbounded.heapStart) /
      Math.max(1, bounded.heapEnd - bounded.heapStart)
    ).toFixed(2);
    printTable('Redis away: the writer', out);
    return out;
  } finally {
    await redis.close();
    await pg.close();
  }
}
