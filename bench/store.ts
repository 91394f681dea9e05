/**
 * Write throughput of the SQLite history store: the store's batching (all
 * writes of one event-loop turn in one transaction) against one transaction
 * per write, in the same run, on a real file in a temp folder. And the
 * analytics recompute after one session changed: from scratch (every
 * stored transition read again) against the incremental `AnalyticsBook`;
 * and the same with a few long histories, every session changed.
 *
 *   node --import tsx --disable-warning=ExperimentalWarning bench/store.ts [analytics]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { computeAnalytics } from '../src/core/metrics/analytics.ts';
import { AnalyticsBook } from '../src/hub/analytics-book.ts';
import type { Analytics, TokenPoint } from '../src/shared/metrics.ts';
import type { PhaseTransition } from '../src/shared/model.ts';
import { SqliteStore } from '../src/store/sqlite-store.ts';
import { sessionStatus } from '../test/helpers/fixtures.ts';

/** Writes issued per event-loop turn in the batched runs (a burst of file events). */
const BURST = 1_000;
const BATCHED_WRITES = 50_000;
/** Fewer: one commit per write is slow, and the rate is stable long before this. */
const SINGLE_WRITES = 3_000;

const status = (id: string) =>
  sessionStatus(id, {
    source: 'file',
    phaseNumber: { raw: '4/7', current: 4, total: 7 },
    progressPercent: 57,
  });

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

/** Stored history for the analytics case: sessions × transitions each. */
const ANALYTICS_SESSIONS = 500;
const ANALYTICS_TRANSITIONS = 40;
const ANALYTICS_ROUNDS = 30;
const BENCH_PHASES = ['Scout', 'Architect', 'Builder', 'Test', 'Deploy', 'Review', 'Docs'];

/** What the engine's accounts would give: some tokens per phase, no tests. */
function benchExtras(key: string) {
  const n = Number(key.slice(1)) || 0;
  return {
    tokensByPhase: { Builder: { input: 1_000 + n, output: 200 }, Test: { input: 300, output: n } },
    testIterations: [],
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

/**
 * Milliseconds per analytics recompute after one session got a transition:
 * `full` lists the sessions and reads every transition (as before the
 * book), `incremental` asks the book, which reads the changed session only.
 */
async function measureAnalytics(dir: string): Promise<Record<string, number>> {
  const store = SqliteStore.open(join(dir, 'analytics.db'), {
    logger: pino({ level: 'warn' }, pino.destination(2)),
  });
  const writes: Promise<void>[] = [];
  for (let s = 0; s < ANALYTICS_SESSIONS; s++) {
    const key = `s${s}`;
    writes.push(
      store.saveSession({ ...status(key), state: s % 3 === 0 ? 'completed' : 'active' }, {}),
    );
    for (let i = 0; i < ANALYTICS_TRANSITIONS; i++) {
      writes.push(
        store.addTransition({
          sessionKey: key,
          from: i === 0 ? null : (BENCH_PHASES[(i - 1) % BENCH_PHASES.length] ?? null),
          to: BENCH_PHASES[i % BENCH_PHASES.length] ?? 'Builder',
          at: 1_000_000 + s * 100_000 + i * (1_000 + s),
          phaseNumber: `${i}/${ANALYTICS_TRANSITIONS}`,
          status: 'in_progress',
        }),
      );
    }
  }
  await Promise.all(writes);
  const full = async (): Promise<Analytics> => {
    const sessions = await store.listSessions();
    const history = await Promise.all(
      sessions.map(async (st) => ({
        state: st.state,
        transitions: await store.transitions(st.id),
        ...benchExtras(st.id),
      })),
    );
    return computeAnalytics(history);
  };
  const book = new AnalyticsBook({ store, extras: benchExtras });
  await book.compute();
  let at = 10_000_000_000;
  /** One session changes: a new transition for it. */
  const change = async (): Promise<string> => {
    const key = `s${Math.floor(Math.random() * ANALYTICS_SESSIONS)}`;
    at += 1_000;
    await store.addTransition({
      sessionKey: key,
      from: 'Builder',
      to: 'Test',
      at,
      phaseNumber: null,
      status: 'in_progress',
    });
    return key;
  };
  const fullMs: number[] = [];
  const incMs: number[] = [];
  for (let round = 0; round < ANALYTICS_ROUNDS; round++) {
    const key = await change();
    let start = process.hrtime.bigint();
    const expected = await full();
    fullMs.push(Number(process.hrtime.bigint() - start) / 1e6);
    book.markDirty(key);
    start = process.hrtime.bigint();
    const got = await book.compute();
    incMs.push(Number(process.hrtime.bigint() - start) / 1e6);
    if (JSON.stringify(got) !== JSON.stringify(expected))
      throw new Error('incremental analytics differ from the full recompute');
  }
  await store.close();
  const f = median(fullMs);
  const inc = median(incMs);
  return {
    'store.analytics.full_ms': Math.round(f * 100) / 100,
    'store.analytics.incremental_ms': Math.round(inc * 100) / 100,
    'store.analytics.speedup': Math.round((f / inc) * 10) / 10,
  };
}

/** A few sessions with long histories (one id reused for every build): sessions × transitions. */
const LONG_SESSIONS = 8;
const LONG_TRANSITIONS = 5_000;
const LONG_ROUNDS = 30;

/**
 * Milliseconds per analytics recompute when each of a few long-history
 * sessions got one new transition since the last one (all of them dirty):
 * `full` reads every transition of every session and runs
 * `computeAnalytics` (what the book did before it kept durations: a dirty
 * session was read whole), `incremental` asks the book, which reads the new
 * rows only. Rows read per recompute are counted from the store's answers.
 */
async function measureLongAnalytics(dir: string): Promise<Record<string, number>> {
  const store = SqliteStore.open(join(dir, 'analytics-long.db'), {
    logger: pino({ level: 'warn' }, pino.destination(2)),
  });
  const writes: Promise<void>[] = [];
  const last = new Map<string, number>();
  for (let s = 0; s < LONG_SESSIONS; s++) {
    const key = `l${s}`;
    writes.push(store.saveSession(status(key), {}));
    for (let i = 0; i < LONG_TRANSITIONS; i++) {
      const at = 1_000_000 + i * (1_000 + s);
      last.set(key, at);
      writes.push(
        store.addTransition({
          sessionKey: key,
          from: BENCH_PHASES[(i + BENCH_PHASES.length - 1) % BENCH_PHASES.length] ?? null,
          to: BENCH_PHASES[i % BENCH_PHASES.length] ?? 'Builder',
          at,
          phaseNumber: `${i}/?`,
          status: 'in_progress',
        }),
      );
    }
  }
  await Promise.all(writes);
  let rows = 0;
  const counted = {
    listSessions: store.listSessions.bind(store),
    transitionsSince: async (afterId: number, key?: string) => {
      const read = await store.transitionsSince(afterId, key);
      rows += read.transitions.length;
      return read;
    },
  };
  const full = async (): Promise<Analytics> => {
    const sessions = await store.listSessions();
    const history = await Promise.all(
      sessions.map(async (st) => {
        const transitions = await store.transitions(st.id);
        rows += transitions.length;
        return { state: st.state, transitions, ...benchExtras(st.id) };
      }),
    );
    return computeAnalytics(history);
  };
  const book = new AnalyticsBook({ store: counted, extras: benchExtras });
  await book.compute();
  const fullMs: number[] = [];
  const incMs: number[] = [];
  let fullRows = 0;
  let incRows = 0;
  for (let round = 0; round < LONG_ROUNDS; round++) {
    // Every session moves on once: one new transition each, all dirty.
    for (let s = 0; s < LONG_SESSIONS; s++) {
      const key = `l${s}`;
      const at = (last.get(key) ?? 0) + 1_000 + round;
      last.set(key, at);
      void store.addTransition({
        sessionKey: key,
        from: 'Builder',
        to: BENCH_PHASES[(round + s) % BENCH_PHASES.length] ?? 'Test',
        at,
        phaseNumber: null,
        status: 'in_progress',
      });
      book.markDirty(key);
    }
    store.flush();
    rows = 0;
    let start = process.hrtime.bigint();
    const expected = await full();
    fullMs.push(Number(process.hrtime.bigint() - start) / 1e6);
    fullRows = rows;
    rows = 0;
    start = process.hrtime.bigint();
    const got = await book.compute();
    incMs.push(Number(process.hrtime.bigint() - start) / 1e6);
    incRows = rows;
    if (JSON.stringify(got) !== JSON.stringify(expected))
      throw new Error('incremental analytics differ from the full recompute (long histories)');
  }
  await store.close();
  const f = median(fullMs);
  const inc = median(incMs);
  return {
    'store.analytics_long.full_ms': Math.round(f * 100) / 100,
    'store.analytics_long.incremental_ms': Math.round(inc * 1000) / 1000,
    'store.analytics_long.speedup': Math.round(f / inc),
    'store.analytics_long.full_rows_read': fullRows,
    'store.analytics_long.incremental_rows_read': incRows,
  };
}

export async function runAnalytics(): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'livestream-bench-store-'));
  try {
    return { ...(await measureAnalytics(dir)), ...(await measureLongAnalytics(dir)) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
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
    Object.assign(results, await measureAnalytics(dir));
    Object.assign(results, await measureLongAnalytics(dir));
    return results;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function printTable(results: Record<string, number>): void {
  if (results['store.analytics.speedup'] !== undefined) {
    process.stdout.write(
      `analytics recompute after one session changed (${ANALYTICS_SESSIONS} sessions × ${ANALYTICS_TRANSITIONS} transitions, median of ${ANALYTICS_ROUNDS}): ` +
        `full ${results['store.analytics.full_ms']} ms, incremental ${results['store.analytics.incremental_ms']} ms, ` +
        `${results['store.analytics.speedup']}x\n`,
    );
  }
  if (results['store.analytics_long.speedup'] !== undefined) {
    process.stdout.write(
      `analytics recompute, long histories (${LONG_SESSIONS} sessions × ${LONG_TRANSITIONS} transitions, one new each, all dirty; median of ${LONG_ROUNDS}): ` +
        `full ${results['store.analytics_long.full_ms']} ms (${results['store.analytics_long.full_rows_read']} rows read), ` +
        `incremental ${results['store.analytics_long.incremental_ms']} ms (${results['store.analytics_long.incremental_rows_read']} rows read), ` +
        `${results['store.analytics_long.speedup']}x\n`,
    );
  }
  if (results['store.transitions.batched_per_s'] === undefined) return;
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
  printTable(process.argv.includes('analytics') ? await runAnalytics() : await run());
}
