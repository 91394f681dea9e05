import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { bucketOf, frameAt, historySpan, summaryOf } from '../../src/core/replay/frame.ts';
import {
  loadHistory,
  type ReplaySources,
  replayFrame,
  replaySummary,
} from '../../src/server/routes/replay.ts';
import type { Alert, AlertEvent } from '../../src/shared/attention.ts';
import type { SessionStatus } from '../../src/shared/model.ts';
import { TEMPLATES } from '../../src/shared/phases.ts';
import { PostgresStore } from '../../src/store/postgres-store.ts';
import { prepareReplayStatements } from '../../src/store/replay-statements.ts';
import { SqliteStore } from '../../src/store/sqlite-store.ts';
import type { HistoryStore } from '../../src/store/types.ts';
import { rng, sessionStatus } from '../helpers/fixtures.ts';
import { type PostgresServer, startPostgres } from '../helpers/services.ts';

/**
 * The replay frames the server reads from indexed queries must equal what
 * the whole history gives (`frameAt`, the reference), at every moment, on
 * both stores: random histories with ties in time, more transitions than a
 * frame reads, token points, test iterations, more log lines than are kept.
 */

const logger = pino({ level: 'silent' });
const PHASES = TEMPLATES['cf-github'].phases;
const STATUSES = ['in_progress', 'completed', 'testing', 'failed', 'self-healing'];
const SEEDS = [1, 2, 3, 4, 5, 6];

interface Seeded {
  id: string;
  status: SessionStatus;
  alerts: Alert[];
  events: AlertEvent[];
  moments: number[];
}

/** Writes one random session into `store`; returns what the replay needs besides the store. */
async function seed(store: HistoryStore, seedNo: number): Promise<Seeded> {
  const r = rng(seedNo);
  const id = `s${seedNo}`;
  const base = 1_700_000_000_000 + seedNo * 1_000_000;
  const count = seedNo === 1 ? 0 : 150 + Math.floor(r() * 350);
  const moments: number[] = [base - 5, base];
  // The session row first: transitions reference it.
  await store.saveSession(sessionStatus(id, { firstSeenAt: base, changedAt: base }), {});
  let at = base + Math.floor(r() * 100);
  let last: string | null = null;
  for (let i = 0; i < count; i++) {
    // One change in five shares its moment with the one before (ties are ordered by id).
    if (r() > 0.2) at += 1 + Math.floor(r() * 50);
    const to = PHASES[Math.floor(r() * PHASES.length)] as string;
    const status = STATUSES[Math.floor(r() * STATUSES.length)] as string;
    await store.addTransition({
      sessionKey: id,
      from: last,
      to,
      at,
      phaseNumber: `${(i % 8) + 1}/8`,
      status,
    });
    last = to;
    moments.push(at, at - 1);
  }
  const end = at + 100;
  let input = 0;
  for (let t = base; t < end; t += 1 + Math.floor(r() * 60)) {
    input += Math.floor(r() * 1000);
    await store.addTokenPoint(id, {
      at: t,
      input: 10,
      output: 5,
      cumulativeInput: input,
      cumulativeOutput: Math.floor(input / 4),
      contextPercent: null,
      model: null,
      phase: null,
    });
  }
  for (let i = 1; i <= Math.floor(r() * 8); i++) {
    const updatedAt = base + Math.floor(r() * (end - base));
    moments.push(updatedAt);
    await store.saveTestIteration(id, {
      iteration: i,
      total: 10,
      passed: 8,
      failed: 2,
      skipped: 0,
      durationMs: 100,
      source: 'test-results.md',
      updatedAt,
    });
  }
  const lines = Math.floor(r() * 1300);
  await store.saveLogLines(
    id,
    Array.from({ length: lines }, (_, n) => ({
      n: n + 1,
      at: base + Math.floor(((end - base) * n) / Math.max(1, lines)),
      level: 'info' as const,
      text: `line ${n + 1}`,
    })),
  );
  const status = sessionStatus(id, {
    firstSeenAt: base - Math.floor(r() * 200),
    changedAt: at,
    state: r() > 0.5 ? 'completed' : 'active',
    currentPhase: last ?? 'Builder',
  });
  await store.saveSession(status, {});
  const alert: Alert = {
    id: `${id}|stalled|1`,
    sessionId: id,
    kind: 'stalled',
    severity: 'warning',
    reason: 'No progress',
    since: base + 10,
    raisedAt: base + 20,
    resolvedAt: base + 400,
    acknowledgedAt: base + 200,
    snoozedUntil: null,
  };
  const events: AlertEvent[] = [
    {
      alertId: alert.id,
      sessionId: id,
      kind: 'snoozed',
      at: base + 100,
      detail: 'web',
      until: base + 300,
    },
  ];
  for (let i = 0; i < 40; i++) moments.push(base - 300 + Math.floor(r() * (end - base + 600)));
  moments.push(end, end + 1000, alert.raisedAt, alert.resolvedAt as number);
  return { id, status, alerts: [alert], events, moments };
}

function sources(store: HistoryStore, seeded: Seeded[]): ReplaySources {
  const byId = new Map(seeded.map((s) => [s.id, s]));
  return {
    session: (id) => {
      const s = byId.get(id);
      return s ? { status: s.status, timeline: [] } : null;
    },
    costUsd: (id) => (id === 's3' ? null : 2.5),
    store,
    alerts: {
      alerts: async (f) => byId.get(f?.sessionId ?? '')?.alerts ?? [],
      alertEvents: async (id) => byId.get(id)?.events ?? [],
    },
  };
}

async function checkStore(store: HistoryStore): Promise<void> {
  const seeded: Seeded[] = [];
  for (const s of SEEDS) seeded.push(await seed(store, s));
  const src = sources(store, seeded);
  for (const s of seeded) {
    const history = await loadHistory(src, s.id);
    assert.ok(history);
    assert.equal(history.transitions.length > 100, s.id !== 's1', `${s.id} has its transitions`);
    for (const at of s.moments) {
      const frame = await replayFrame(src, s.id, at);
      assert.deepEqual(frame, frameAt(history, at), `${s.id} at ${at}`);
      // A smaller frame (what the page asks for) is cut the same way.
      const small = { rows: 7, lines: 3 };
      assert.deepEqual(
        await replayFrame(src, s.id, at, small),
        frameAt(history, at, small),
        `${s.id} at ${at}, small`,
      );
    }
    // The summary: the span of the whole history, and the changes bucketed as the reference does.
    for (const slices of [1, 7, 200]) {
      const span = historySpan(history);
      const buckets = new Map<number, { bucket: number; transitions: number; last: never }>();
      const stored = await store.transitions(s.id);
      for (const t of stored) {
        const b = bucketOf(t.at, span, slices);
        const prev = buckets.get(b);
        buckets.set(b, { bucket: b, transitions: (prev?.transitions ?? 0) + 1, last: t as never });
      }
      const summary = await replaySummary(src, s.id, slices);
      assert.deepEqual(summary, summaryOf(s.status, span, [...buckets.values()], slices));
      assert.equal(summary?.transitions, history.transitions.length);
      assert.equal(summary?.slices.length, slices);
      // The last slice ends with the history: the session as it is now.
      assert.equal(summary?.slices.at(-1)?.phase, s.status.currentPhase);
      assert.equal(summary?.slices.at(-1)?.state, s.status.state);
      if (slices === 200 && history.transitions.length > 0) {
        const t = history.transitions[Math.floor(history.transitions.length / 2)];
        const slice = summary?.slices[bucketOf(t?.at ?? 0, span, slices)];
        assert.ok((slice?.changes ?? 0) > 0, 'a slice with a change counts it');
      }
    }
  }
  assert.equal(await replayFrame(src, 'nope', 0), null);
  assert.equal(await replaySummary(src, 'nope', 10), null);
}

describe('replay frames from indexed store queries', () => {
  const temps: string[] = [];
  after(async () => {
    for (const dir of temps) await rm(dir, { recursive: true, force: true });
  });

  it('SQLite: every frame equals the one rebuilt from the whole history', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ls-frames-'));
    temps.push(dir);
    const store = SqliteStore.open(join(dir, 'h.db'), { logger });
    try {
      await checkStore(store);
    } finally {
      await store.close();
    }
  });

  it('SQLite: a frame reads index ranges, never a whole table', async () => {
    const store = SqliteStore.open(':memory:', { logger });
    try {
      const statements = prepareReplayStatements(store.database);
      for (const [name, statement] of Object.entries(statements)) {
        if (name === 'buckets') continue;
        const plan = store.database
          .prepare(`EXPLAIN QUERY PLAN ${statement.sourceSQL}`)
          .all()
          .map((row) => String(row.detail));
        for (const step of plan) {
          assert.doesNotMatch(
            step,
            /^SCAN (transitions|token_points|test_iterations|log_lines)\b/,
            `${name}: ${plan.join(' | ')}`,
          );
        }
      }
    } finally {
      await store.close();
    }
  });
});

describe('replay frames from indexed store queries (PostgreSQL)', () => {
  let pg: PostgresServer;
  before(async () => {
    pg = await startPostgres();
  });
  after(async () => {
    await pg.close();
  });

  it('PostgreSQL: every frame equals the one rebuilt from the whole history', async () => {
    await pg.psql('CREATE DATABASE frames');
    const store = await PostgresStore.open(pg.url.replace(/\/postgres$/, '/frames'), { logger });
    try {
      await checkStore(store);
    } finally {
      await store.close();
    }
  });
});
