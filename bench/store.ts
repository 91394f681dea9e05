/**
 * Write throughput of the SQLite history store: the store's batching (all
 * writes of one event-loop turn in one transaction) against one transaction
 * per write, in the same run, on a real file in a temp folder.
 *
 *   node --import tsx --disable-warning=ExperimentalWarning bench/store.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import type { TokenPoint } from '../src/shared/metrics.ts';
import type { PhaseTransition, SessionStatus } from '../src/shared/model.ts';
import { SqliteStore } from '../src/store/sqlite-store.ts';

/** Writes issued per event-loop turn in the batched runs (a burst of file events). */
const BURST = 1_000;
const BATCHED_WRITES = 50_000;
/** Fewer: one commit per write is slow, and the rate is stable long before this. */
const SINGLE_WRITES = 3_000;

function status(id: string): SessionStatus {
  return {
    id,
    sessionId: id,
    projectDir: null,
    source: 'file',
    currentPhase: 'Builder',
    phaseNumber: { raw: '4/7', current: 4, total: 7 },
    status: 'in_progress',
    state: 'active',
    progressDetail: null,
    testIteration: null,
    phasesCompleted: [],
    startedAt: null,
    reportedAt: null,
    firstSeenAt: 0,
    changedAt: 0,
    progressPercent: 57,
    etaAt: null,
    warnings: [],
    extras: {},
  };
}

type Write = (store: SqliteStore, key: string, i: number) => Promise<void>;

const transition: Write = (store, key, i) => {
  const t: PhaseTransition = {
    sessionKey: key,
    from: `P${i - 1}`,
    to: `P${i}`,
    at: i,
    phaseNumber: `${i}/?`,
    status: 'in_progress',
  };
  return store.addTransition(t);
};

const tokenPoint: Write = (store, key, i) => {
  const p: TokenPoint = {
    at: i,
    input: 120,
    output: 80,
    cumulativeInput: 120 * i,
    cumulativeOutput: 80 * i,
    contextPercent: 42.5,
    model: 'claude-sonnet',
    phase: 'Builder',
  };
  return store.addTokenPoint(key, p);
};

/** Writes per second; `batched` fires bursts of BURST writes per turn, otherwise awaits each. */
async function measure(dir: string, name: string, write: Write, batched: boolean): Promise<number> {
  const store = SqliteStore.open(join(dir, `${name}-${batched ? 'batched' : 'single'}.db`), {
    logger: pino({ level: 'warn' }, pino.destination(2)),
  });
  const key = 'bench';
  await store.saveSession(status(key), {});
  const count = batched ? BATCHED_WRITES : SINGLE_WRITES;
  const start = process.hrtime.bigint();
  if (batched) {
    for (let i = 0; i < count; i += BURST) {
      const burst: Promise<void>[] = [];
      for (let j = i; j < i + BURST; j++) burst.push(write(store, key, j));
      await Promise.all(burst);
    }
  } else {
    for (let i = 0; i < count; i++) await write(store, key, i);
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (!store.health().writable) throw new Error(`store failed: ${store.health().lastError}`);
  await store.close();
  return count / seconds;
}

export async function run(): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'livestream-bench-store-'));
  try {
    const results: Record<string, number> = {};
    for (const [name, write] of [
      ['transitions', transition],
      ['token_points', tokenPoint],
    ] as const) {
      const single = await measure(dir, name, write, false);
      const batched = await measure(dir, name, write, true);
      results[`store.${name}.batched_per_s`] = Math.round(batched);
      results[`store.${name}.single_tx_per_s`] = Math.round(single);
      results[`store.${name}.batching_ratio`] = Math.round((batched / single) * 10) / 10;
    }
    return results;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function printTable(results: Record<string, number>): void {
  const rows = ['transitions', 'token_points'].map((name) => [
    name,
    String(results[`store.${name}.batched_per_s`]),
    String(results[`store.${name}.single_tx_per_s`]),
    `${results[`store.${name}.batching_ratio`]}x`,
  ]);
  const header = ['writes', `batched/s (${BURST} per turn)`, 'one tx per write/s', 'ratio'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ');
  process.stdout.write(
    `${[line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n')}\n`,
  );
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  printTable(await run());
}
