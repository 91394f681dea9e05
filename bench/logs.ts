/**
 * What stored session logs cost a starting server: every session's last
 * 1,000 lines loaded up front (as every start did before logs loaded on
 * demand) against the newest line numbers only, then one session opened
 * by a reader. Same store, same run; heap measured after a full collection.
 *
 *   node --expose-gc --import tsx --disable-warning=ExperimentalWarning bench/logs.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { MemoryHub } from '../src/hub/hub.ts';
import { DEFAULT_LOG_CAP, LogBook } from '../src/hub/logbook.ts';
import type { LogLine } from '../src/shared/model.ts';
import { SqliteStore } from '../src/store/sqlite-store.ts';
import { printTable } from './stats.ts';

const SESSIONS = 300;
const LINES = DEFAULT_LOG_CAP;

function heapMb(): number {
  globalThis.gc?.();
  globalThis.gc?.();
  return process.memoryUsage().heapUsed / 1048576;
}

async function measure(
  store: SqliteStore,
  keys: string[],
  loadAll: boolean,
): Promise<{ ms: number; mb: number; openMs: number }> {
  const base = heapMb();
  const started = performance.now();
  const book = new LogBook(new MemoryHub(), { store });
  await book.loadHeads();
  if (loadAll) for (const key of keys) await book.warm(key);
  const ms = performance.now() - started;
  const mb = heapMb() - base;
  const opened = performance.now();
  await book.warm(keys[7] as string);
  return { ms, mb, openMs: performance.now() - opened };
}

export async function run(): Promise<Record<string, number>> {
  if (!globalThis.gc) {
    throw new Error(
      'run with --expose-gc (npm run bench does) so heap figures are after a full GC',
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'ls-bench-logs-'));
  const logger = pino({ level: 'silent' });
  const store = SqliteStore.open(join(dir, 'bench.db'), { logger });
  try {
    const keys = Array.from({ length: SESSIONS }, (_, i) => `session-${i}`);
    for (const key of keys) {
      const lines: LogLine[] = Array.from({ length: LINES }, (_, i) => ({
        n: i + 1,
        at: 1_700_000_000_000 + i * 1000,
        level: 'info',
        text: `[${key}] step ${i + 1}: ran the test suite, 42 passed, 0 failed`,
      }));
      await store.saveLogLines(key, lines);
    }
    await new Promise((r) => setImmediate(r));

    const eager = await measure(store, keys, true);
    const lazy = await measure(store, keys, false);
    const figures = {
      sessions: SESSIONS,
      lines_each: LINES,
      eager_start_ms: Math.round(eager.ms),
      eager_heap_mb: Number(eager.mb.toFixed(1)),
      on_demand_start_ms: Math.round(lazy.ms),
      on_demand_heap_mb: Number(lazy.mb.toFixed(2)),
      open_one_session_ms: Number(lazy.openMs.toFixed(1)),
      start_speedup: Number((eager.ms / lazy.ms).toFixed(1)),
    };
    return figures;
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  printTable('Session logs at startup', await run());
}
