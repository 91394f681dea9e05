import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import pino from 'pino';
import { MetricsAccount } from '../core/metrics/account.ts';
import { computeAnalytics } from '../core/metrics/analytics.ts';
import type { Analytics } from '../shared/metrics.ts';
import { SqliteStore } from '../store/sqlite-store.ts';
import { AnalyticsBook } from './analytics-book.ts';
import { engines, pushPhase } from './fixtures/engines.ts';
import { MemoryHub } from './hub.ts';
import { LogBook } from './logbook.ts';
import { SessionEngine } from './session-engine.ts';

const logger = pino({ level: 'silent' });
const BUDGET = 200_000;
const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

/** The real engines over a real SQLite file; `reads` lists the keys whose transitions were read. */
async function world(root: string) {
  const reads: string[] = [];
  let transitions: SqliteStore['transitions'] = async () => [];
  const w = await engines(root, {
    tokenBudget: BUDGET,
    onStore: (store) => {
      transitions = store.transitions.bind(store);
      // Counting wrapper around the real store's method (the rows still come from SQLite).
      store.transitions = async (key: string) => {
        reads.push(key);
        return transitions(key);
      };
    },
    // The session engine's own restore reads them too.
    onSessionsRestored: () => {
      reads.length = 0;
    },
  });
  const { store, metrics } = w;
  return {
    ...w,
    reads,
    transitions,
    /** Analytics recomputed by the engine, and the keys whose transitions it read. */
    async recompute(): Promise<{ analytics: Analytics; read: string[] }> {
      reads.length = 0;
      const analytics = await metrics.analytics();
      return { analytics, read: [...reads].sort() };
    },
    /** `computeAnalytics` over the full history, everything read again from the store. */
    async fromScratch(): Promise<Analytics> {
      const statuses = await store.listSessions();
      const history = await Promise.all(
        statuses.map(async (s) => {
          const account = new MetricsAccount();
          account.load({
            points: await store.tokenPoints(s.id),
            tests: await store.testIterations(s.id),
            agents: [],
            decisions: [],
          });
          return {
            state: s.state,
            transitions: await transitions(s.id),
            tokensByPhase: account.tokens.usage(BUDGET)?.byPhase ?? null,
            testIterations: account.testIterations(),
          };
        }),
      );
      return computeAnalytics(history);
    },
  };
}

type World = Awaited<ReturnType<typeof world>>;

const push = (w: World, id: string, phase: string, at: number, status?: string) =>
  pushPhase(w, id, phase, at, status);

function line(at: number, input: number, output: number): string {
  return `${JSON.stringify({
    timestamp: new Date(at).toISOString(),
    prompt: 'p',
    response: 'r',
    metadata: { input_tokens: input, output_tokens: output, model: 'claude-x' },
  })}\n`;
}

async function sessionLog(root: string, id: string): Promise<string> {
  const dir = join(root, 'logs', `ralph_${id}`);
  await mkdir(dir, { recursive: true });
  return join(dir, 'session.jsonl');
}

const T0 = 1_000_000;
const PHASES = ['Scout', 'Architect', 'Builder', 'Test'];

describe('AnalyticsBook in the metrics engine, over a real SQLite file', () => {
  test('equals a from-scratch recompute after each change; reads only the changed session; forget and prune remove a session', async () => {
    const root = await tempDir();
    const project = join(root, 'weather');
    const cf = join(project, '.context-foundry');
    await mkdir(cf, { recursive: true });
    const w = await world(root);
    try {
      // Several sessions with phase histories; s3 is old and finished.
      for (const [n, id] of ['s1', 's2', 's4'].entries()) {
        for (const [i, phase] of PHASES.entries())
          push(w, id, phase, T0 + n * 7_000 + i * 1_500 * (n + 1));
      }
      push(w, 's3', 'Scout', 1_000);
      push(w, 's3', 'Builder', 4_000);
      push(w, 's3', 'Deploy', 9_000, 'completed');
      await writeFile(
        join(cf, 'current-phase.json'),
        JSON.stringify({
          session_id: 'weather',
          current_phase: 'Test',
          phase_number: '4/7',
          status: 'testing',
        }),
      );
      await w.phase(join(cf, 'current-phase.json'));
      const weather = w.sessions.keyForProject(project);
      assert.ok(weather);
      const log1 = await sessionLog(root, 's1');
      await writeFile(log1, line(T0 + 100, 100, 10) + line(T0 + 2_000, 300, 30));
      await w.tail(log1);

      let r = await w.recompute();
      assert.deepEqual(r.analytics, await w.fromScratch());
      assert.equal(r.analytics.sessions, 5);
      assert.deepEqual(w.hub.get('analytics')?.data, r.analytics);

      // Nothing changed: nothing read.
      r = await w.recompute();
      assert.deepEqual(r.read, []);
      assert.deepEqual(r.analytics, await w.fromScratch());

      // One session moves on: only its transitions are read again.
      push(w, 's2', 'Deploy', T0 + 60_000, 'failed');
      r = await w.recompute();
      assert.deepEqual(r.read, ['s2']);
      const afterFail = await w.fromScratch();
      assert.deepEqual(r.analytics, afterFail);
      assert.equal(r.analytics.failureRate, 0.5);

      // Tokens of one session.
      await writeFile(
        log1,
        line(T0 + 100, 100, 10) + line(T0 + 2_000, 300, 30) + line(T0 + 5_000, 1_000, 200),
      );
      await w.tail(log1);
      r = await w.recompute();
      assert.deepEqual(r.read, ['s1']);
      assert.deepEqual(r.analytics, await w.fromScratch());
      assert.notDeepEqual(r.analytics.tokensPerPhase, afterFail.tokensPerPhase);

      // A test iteration of the project session.
      await writeFile(join(cf, 'test-results-iteration-1.md'), '3 passed, 2 failed in 1.5s\n');
      await writeFile(join(cf, 'test-results-iteration-2.md'), '5 passed in 2s\n');
      await w.project(join(cf, 'test-results-iteration-1.md'));
      await w.project(join(cf, 'test-results-iteration-2.md'));
      r = await w.recompute();
      assert.deepEqual(r.read, [weather]);
      assert.equal(r.analytics.avgTestIterationsToGreen, 2);
      assert.deepEqual(r.analytics, await w.fromScratch());

      // Changes across several sessions at once.
      push(w, 's1', 'Deploy', T0 + 90_000, 'completed');
      push(w, 's4', 'Deploy', T0 + 95_000);
      r = await w.recompute();
      assert.deepEqual(r.read, ['s1', 's4']);
      assert.deepEqual(r.analytics, await w.fromScratch());

      // Retention: s3 is pruned from memory and the store, and leaves the analytics.
      const withS3 = r.analytics;
      const cut = 500_000;
      const pruned = w.sessions.prune(cut);
      assert.deepEqual(pruned, ['s3']);
      w.metrics.forget(pruned);
      await w.store.prune(cut);
      r = await w.recompute();
      assert.deepEqual(r.read, []);
      assert.equal(r.analytics.sessions, withS3.sessions - 1);
      assert.notDeepEqual(r.analytics.avgPhaseDurationMs, withS3.avgPhaseDurationMs);
      assert.deepEqual(r.analytics, await w.fromScratch());

      // Forgotten while still stored: counted as the store has it, without in-memory figures.
      w.metrics.forget(['s1']);
      r = await w.recompute();
      assert.deepEqual(r.read, ['s1']);
      assert.deepEqual(r.analytics.tokensPerPhase, {});
    } finally {
      await w.close();
    }
  });

  test('after a restart every stored session is read once, then only changed ones', async () => {
    const root = await tempDir();
    let w = await world(root);
    for (let s = 0; s < 6; s++) {
      for (const [i, phase] of PHASES.entries())
        push(w, `r${s}`, phase, T0 + s * 10_000 + i * 900 * (s + 1));
    }
    const before = await w.metrics.analytics();
    await w.close();

    w = await world(root);
    try {
      // restore() computed them once, reading every session.
      assert.deepEqual([...w.reads].sort(), ['r0', 'r1', 'r2', 'r3', 'r4', 'r5']);
      assert.deepEqual(w.hub.get('analytics')?.data, before);
      let r = await w.recompute();
      assert.deepEqual(r.read, []);
      assert.deepEqual(r.analytics, before);
      push(w, 'r3', 'Deploy', T0 + 99_000, 'completed');
      r = await w.recompute();
      assert.deepEqual(r.read, ['r3']);
      assert.deepEqual(r.analytics, await w.fromScratch());
    } finally {
      await w.close();
    }
  });

  test('the debounced recompute publishes the analytics of the changed session', async () => {
    const root = await tempDir();
    const w = await world(root);
    try {
      push(w, 'd1', 'Scout', T0);
      const published = new Promise<Analytics>((resolve) => {
        w.hub.fanout.subscribeAll(() => {
          const a = w.hub.get('analytics')?.data as Analytics | undefined;
          if (a?.avgPhaseDurationMs.Scout === 2_500) resolve(a);
        });
      });
      push(w, 'd1', 'Builder', T0 + 2_500);
      const a = await published;
      assert.deepEqual(a, await w.fromScratch());
    } finally {
      await w.close();
    }
  });
});

describe('AnalyticsBook', () => {
  test('a session changed while its transitions were being read is read again next time', async () => {
    const root = await tempDir();
    const store = SqliteStore.open(join(root, 'history.db'), { logger });
    try {
      const reads: string[] = [];
      const transitions = store.transitions.bind(store);
      const book = new AnalyticsBook({
        store: {
          listSessions: (f) => store.listSessions(f),
          transitions: async (key) => {
            reads.push(key);
            const rows = await transitions(key);
            // The session changes after its rows were read, before the recompute ends.
            if (reads.length === 1) book.markDirty(key);
            return rows;
          },
        },
        extras: () => ({ tokensByPhase: null, testIterations: [] }),
      });
      const sessions = new SessionEngine({
        hub: new MemoryHub(),
        store,
        logs: new LogBook(new MemoryHub()),
        logger,
      });
      sessions.ingestPush({ session_id: 'x', current_phase: 'Scout', status: 'in_progress' }, T0);
      sessions.ingestPush(
        { session_id: 'x', current_phase: 'Test', status: 'in_progress' },
        T0 + 500,
      );
      assert.equal((await book.compute()).sessions, 1);
      assert.equal(book.dirty, 1);
      const a = await book.compute();
      assert.deepEqual(reads, ['x', 'x']);
      assert.deepEqual(a.avgPhaseDurationMs, { Scout: 500 });
      assert.equal(book.dirty, 0);
      await book.compute();
      assert.deepEqual(reads, ['x', 'x']);
      sessions.close();
    } finally {
      await store.close();
    }
  });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'analytics-book-'));
  dirs.push(dir);
  return dir;
}
