import { once } from 'node:events';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import WebSocket from 'ws';
import { type App, createApp } from '../src/app.ts';
import type { AppConfig } from '../src/config.ts';
import type { ServerMessage } from '../src/shared/protocol.ts';
import { testConfig } from '../test/helpers/app-config.ts';
import { percentile, printTable } from './stats.ts';

/**
 * What one push costs against how many sessions the server holds, in one run:
 * 10, 1,000 and 10,000 ordinary sessions (`--quick`: 10 and 2,000). Each
 * push is a real `POST /api/phase-update` to the real app (SQLite file,
 * every engine), timed until the `sessions` delta reaches a WebSocket
 * viewer; CPU per push also counts what runs after it (attention, the
 * analytics recompute a second later). Flat means the ratio to 10 sessions
 * stays near 1.
 *
 * Then a hostile producer: 200 pushes whose phase name is 1 MB, each a new
 * one. Per-push time (last 20 against first 20), RSS and database growth and
 * the restart time must stay bounded (`--no-huge` leaves it out).
 */
const quick = process.argv.includes('--quick');
const SIZES = quick ? [10, 2000] : [10, 1000, 10_000];
const PUSHES = quick ? 40 : 100;
const HUGE_PUSHES = quick ? 40 : 200;
/** `--no-huge`: the push cost only. */
const skipHuge = process.argv.includes('--no-huge');
const logger = pino({ level: 'silent' });

function config(dir: string): AppConfig {
  return testConfig([join(dir, 'root')], join(dir, 'ls.db'), {
    webDir: join(dir, 'no-web'),
    agents: null,
  });
}

function phase(id: string, i: number, name = 'Builder'): Record<string, unknown> {
  return {
    session_id: id,
    current_phase: name,
    phase_number: '3/7',
    status: 'in_progress',
    progress_detail: `step ${i} of ${id}`,
    phases_completed: ['Scout', 'Architect'],
    started_at: new Date(Date.now() - 600_000).toISOString(),
    last_updated: new Date().toISOString(),
  };
}

async function post(app: App, body: unknown): Promise<void> {
  const res = await fetch(`${app.url}/api/phase-update`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (res.status !== 200) throw new Error(`push refused: ${res.status} ${await res.text()}`);
  await res.arrayBuffer();
}

/** A viewer of the `sessions` topic; `next()` resolves with the next delta's size in bytes. */
async function viewer(app: App) {
  const ws = new WebSocket(`${app.url?.replace('http', 'ws')}/ws`, { perMessageDeflate: false });
  let waiting: ((bytes: number) => void) | null = null;
  let snapshot: () => void = () => undefined;
  const snapped = new Promise<void>((r) => {
    snapshot = r;
  });
  ws.on('message', (data: Buffer) => {
    const message = JSON.parse(String(data)) as ServerMessage;
    if (message.type === 'snapshot' && message.topic === 'sessions') snapshot();
    if (message.type === 'delta' && message.topic === 'sessions' && waiting) {
      const done = waiting;
      waiting = null;
      done(data.length);
    }
  });
  await once(ws, 'open');
  ws.send(JSON.stringify({ type: 'subscribe', topics: ['sessions'] }));
  await snapped;
  return {
    next: () =>
      new Promise<number>((r) => {
        waiting = r;
      }),
    close: () => ws.close(),
  };
}

async function seed(app: App, n: number): Promise<void> {
  const now = Date.now();
  for (let i = 0; i < n; i += 250) {
    for (let j = i; j < Math.min(n, i + 250); j++) {
      const result = app.sessions.ingestPush(phase(`s${j}`, 0), now);
      if (!result.ok) throw new Error(result.error);
    }
    await new Promise((r) => setImmediate(r));
  }
  await app.attention.idle();
}

async function costAt(
  n: number,
): Promise<{ p50: number; p90: number; cpu: number; bytes: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'livestream-bench-cost-'));
  const app = await createApp({ config: config(dir), logger });
  try {
    await seed(app, n);
    // Let the analytics recompute of the seeding pass.
    await new Promise((r) => setTimeout(r, 1200));
    const view = await viewer(app);
    const times: number[] = [];
    let bytes = 0;
    const cpu = process.cpuUsage();
    for (let i = 0; i < PUSHES; i++) {
      const id = `s${(i * 7919) % n}`;
      const delta = view.next();
      const start = performance.now();
      await post(app, phase(id, i + 1));
      bytes += await delta;
      times.push(performance.now() - start);
    }
    // The recompute a push schedules runs within a second: it is part of the push's cost.
    await new Promise((r) => setTimeout(r, 1200));
    const used = process.cpuUsage(cpu);
    view.close();
    return {
      p50: percentile(times, 50),
      p90: percentile(times, 90),
      cpu: (used.user + used.system) / 1000 / PUSHES,
      bytes: bytes / PUSHES,
    };
  } finally {
    await app.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function hugeField(): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'livestream-bench-huge-'));
  const MB = 1024 * 1024;
  let app = await createApp({ config: config(dir), logger });
  try {
    globalThis.gc?.();
    const rssBefore = process.memoryUsage().rss;
    const times: number[] = [];
    let accepted = 0;
    for (let i = 0; i < HUGE_PUSHES; i++) {
      // A million characters: just under the 1 MiB body limit with the rest of the document.
      const name = `${i} ${'x'.repeat(1_000_000)}`;
      const start = performance.now();
      const res = await fetch(`${app.url}/api/phase-update`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(phase('huge', i, name)),
      });
      await res.arrayBuffer();
      if (res.status === 200) accepted++;
      times.push(performance.now() - start);
    }
    await new Promise((r) => setTimeout(r, 1200));
    globalThis.gc?.();
    const rssAfter = process.memoryUsage().rss;
    await app.stop();
    const dbBytes = ['ls.db', 'ls.db-wal']
      .map((f) => {
        try {
          return statSync(join(dir, f)).size;
        } catch {
          return 0;
        }
      })
      .reduce((a, b) => a + b, 0);
    const start = performance.now();
    app = await createApp({ config: config(dir), logger });
    const restartMs = performance.now() - start;
    const first = times.slice(0, 20);
    const last = times.slice(-20);
    return {
      [`${HUGE_PUSHES} pushes of a 1 MB phase name: first 20 p50 (ms)`]: percentile(first, 50),
      'last 20 p50 (ms)': percentile(last, 50),
      'last/first ratio': percentile(last, 50) / percentile(first, 50),
      'pushes accepted': accepted,
      'RSS growth (MB)': (rssAfter - rssBefore) / MB,
      'database (MB)': dbBytes / MB,
      'restart (ms)': restartMs,
    };
  } finally {
    await app.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const results = [];
  // A first pass warms the JIT up, so the smallest size is not charged for it.
  await costAt(SIZES[0] as number);
  for (const n of SIZES) {
    const r = await costAt(n);
    results.push(r);
    out[`${n} sessions: push→delta p50 (ms)`] = r.p50;
    out[`${n} sessions: push→delta p90 (ms)`] = r.p90;
    out[`${n} sessions: CPU per push (ms)`] = r.cpu;
    out[`${n} sessions: sessions delta (bytes)`] = Math.round(r.bytes);
  }
  const base = results[0] as (typeof results)[0];
  const top = results.at(-1) as (typeof results)[0];
  const big = SIZES.at(-1);
  out[`p50 ratio ${big}/${SIZES[0]} sessions (flat: 1)`] = top.p50 / base.p50;
  out[`CPU ratio ${big}/${SIZES[0]} sessions (flat: 1)`] = top.cpu / base.cpu;
  printTable('Push cost against the number of sessions', out);
  if (skipHuge) return out;
  const huge = await hugeField();
  printTable('A 1 MB phase name, pushed again and again', huge);
  return { ...out, ...huge };
}
