import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { metricsSink } from '../src/core/metrics/inputs.ts';
import { readSessionLogLine } from '../src/core/metrics/tokens.ts';
import { MemoryHub } from '../src/hub/hub.ts';
import { LogBook } from '../src/hub/logbook.ts';
import { MetricsEngine } from '../src/hub/metrics-engine.ts';
import { SessionEngine } from '../src/hub/session-engine.ts';
import type { SessionMetrics } from '../src/shared/metrics.ts';
import { JsonlTail } from '../src/sources/jsonl-tail.ts';
import { JsonlLogHandler } from '../src/sources/metrics-files.ts';
import type { FileHandler } from '../src/sources/types.ts';
import { SqliteStore } from '../src/store/sqlite-store.ts';
import type { TailOffset } from '../src/store/types.ts';
import { printTable } from './stats.ts';

const MB = 1024 * 1024;
const SIZE_MB = Number(process.env.LIVESTREAM_BENCH_INGEST_MB ?? 100);

/** Writes a session.jsonl of about `sizeMb` MB of realistic lines; returns the line count. */
async function generate(path: string, sizeMb: number): Promise<number> {
  const out = createWriteStream(path);
  const prompt = 'Implement the weather API client with retries and caching. '.repeat(25);
  const response = 'Here is the implementation with tests and error handling. '.repeat(12);
  const start = Date.parse('2025-01-13T00:00:00Z');
  let bytes = 0;
  let lines = 0;
  let totalIn = 0;
  let totalOut = 0;
  while (bytes < sizeMb * MB) {
    const input = 1000 + (lines % 500);
    const output = 200 + (lines % 100);
    totalIn += input;
    totalOut += output;
    const line = `${JSON.stringify({
      timestamp: new Date(start + lines * 1000).toISOString(),
      prompt,
      response,
      metadata: {
        input_tokens: input,
        output_tokens: output,
        total_input: totalIn,
        total_output: totalOut,
        context_percentage: (lines % 100) + 0.5,
        model: 'claude-sonnet',
      },
    })}\n`;
    bytes += Buffer.byteLength(line);
    lines++;
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return lines;
}

/** Peak memory above a baseline, sampled while `work` runs. */
async function measured<T>(
  work: () => Promise<T>,
): Promise<{ result: T; ms: number; rssMb: number; heapMb: number }> {
  globalThis.gc?.();
  const base = process.memoryUsage();
  let peakRss = base.rss;
  let peakHeap = base.heapUsed;
  const sample = () => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  };
  const timer = setInterval(sample, 10);
  const started = performance.now();
  try {
    const result = await work();
    sample();
    return {
      result,
      ms: performance.now() - started,
      rssMb: (peakRss - base.rss) / MB,
      heapMb: (peakHeap - base.heapUsed) / MB,
    };
  } finally {
    clearInterval(timer);
  }
}

/**
 * Issue 5's figures: how fast session.jsonl lines are ingested, and that
 * following a 100 MB file takes bounded memory. Two runs over the same file:
 * the tail with token parsing alone, then the whole engine (SQLite history,
 * hub topics) as `serve` runs it.
 */
export async function run(): Promise<Record<string, number>> {
  const dir = await mkdtemp(join(tmpdir(), 'livestream-ingest-'));
  try {
    const logDir = join(dir, 'logs', 'ralph_bench');
    await mkdir(logDir, { recursive: true });
    const path = join(logDir, 'session.jsonl');
    const lines = await generate(path, SIZE_MB);

    const offsets = new Map<string, TailOffset>();
    const tailOnly = await measured(async () => {
      let tokens = 0;
      const tail = new JsonlTail({
        path,
        offsets: {
          getOffset: async (p) => offsets.get(p) ?? null,
          setOffset: async (o) => {
            offsets.set(o.path, o);
          },
        },
        onBatch: ({ values }) => {
          for (const v of values) tokens += readSessionLogLine(v)?.input ?? 0;
          return true;
        },
      });
      const r = await tail.poll();
      return { lines: r.lines, tokens };
    });

    const logger = pino({ level: 'silent' });
    const store = SqliteStore.open(join(dir, 'bench.db'), { logger });
    const hub = new MemoryHub();
    const logs = new LogBook(hub);
    const sessions = new SessionEngine({ hub, store, logs, logger });
    const metrics = new MetricsEngine({ hub, sessions, store, logs, logger });
    sessions.ingestPush(
      { session_id: 'bench', current_phase: 'Builder', status: 'in_progress' },
      Date.now(),
    );
    const handler: FileHandler = new JsonlLogHandler(
      metricsSink((event) => metrics.apply(event)),
      store,
    );
    const engine = await measured(async () => {
      await handler.handle({ kind: 'add', path, root: dir });
      return metrics.get('bench') as SessionMetrics;
    });
    const stored = (await store.tokenPoints('bench')).length;
    metrics.close();
    sessions.close();
    await store.close();
    if (
      tailOnly.result.lines !== lines ||
      engine.result.token_usage.data === null ||
      stored !== lines
    ) {
      throw new Error(`ingest lost lines: ${tailOnly.result.lines}/${stored} of ${lines}`);
    }

    const figures = {
      'file size (MB)': SIZE_MB,
      lines,
      'tail + parse: lines/s': Math.round(lines / (tailOnly.ms / 1000)),
      'tail + parse: MB/s': SIZE_MB / (tailOnly.ms / 1000),
      'tail + parse: peak RSS growth (MB)': tailOnly.rssMb,
      'tail + parse: peak heap growth (MB)': tailOnly.heapMb,
      'engine + SQLite: lines/s': Math.round(lines / (engine.ms / 1000)),
      'engine + SQLite: MB/s': SIZE_MB / (engine.ms / 1000),
      'engine + SQLite: peak RSS growth (MB)': engine.rssMb,
      'engine + SQLite: peak heap growth (MB)': engine.heapMb,
      'series points kept': engine.result.token_usage.data.series.length,
    };
    printTable('session.jsonl ingest', figures);
    return figures;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await run();
}
