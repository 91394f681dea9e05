import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import pino from 'pino';
import { engines, pushPhase } from '../../test/helpers/engines.ts';
import { rng, sessionStatus } from '../../test/helpers/fixtures.ts';
import { MetricsAccount } from '../core/metrics/account.ts';
import { computeAnalytics } from '../core/metrics/analytics.ts';
import type { Analytics, TestIteration } from '../shared/metrics.ts';
import type { PhaseTransition, SessionState } from '../shared/model.ts';
import { SqliteStore } from '../store/sqlite-store.ts';
import { AnalyticsBook, type SessionExtras } from './analytics-book.ts';
import { MemoryHub } from './hub.ts';
import { LogBook } from './logbook.ts';
import { SessionEngine } from './session-engine.ts';

const logger = pino({ level: 'silent' });
const BUDGET = 200_000;
const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

/**
 * The real engines over a real SQLite file; `reads` lists the keys whose whole
 * history was read, `fed` counts the rows the book read since its last recompute.
 */
async function world(root: string) {
  const reads: string[] = [];
  const fed = { rows: 0 };
  let transitions: SqliteStore['transitions'] = async () => [];
  const w = await engines(root, {
    tokenBudget: BUDGET,
    onStore: (store) => {
      transitions = store.transitions.bind(store);
      const since = store.transitionsSince.bind(store);
      // Counting wrapper around the real store's method (the rows still come from SQLite).
      store.transitionsSince = async (afterId: number, key?: string) => {
        const read = await since(afterId, key);
        if (key !== undefined) reads.push(key);
        else fed.rows += read.transitions.length;
        return read;
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
    fed,
    transitions,
    /** Analytics recomputed by the engine, and the keys whose transitions it read. */
    async recompute(): Promise<{ analytics: Analytics; read: string[]; fed: number }> {
      reads.length = 0;
      fed.rows = 0;
      const analytics = await metrics.analytics();
      return { analytics, read: [...reads].sort(), fed: fed.rows };
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
  test('equals a from-scratch recompute after each change; reads only the rows stored since; forget and prune remove a session', async () => {
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
      assert.equal(r.fed, 0);
      assert.deepEqual(r.analytics, await w.fromScratch());

      // One session moves on: only its new transition is read.
      push(w, 's2', 'Deploy', T0 + 60_000, 'failed');
      r = await w.recompute();
      assert.deepEqual(r.read, []);
      assert.equal(r.fed, 1);
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
      assert.deepEqual(r.read, []);
      assert.equal(r.fed, 0);
      assert.deepEqual(r.analytics, await w.fromScratch());
      assert.notDeepEqual(r.analytics.tokensPerPhase, afterFail.tokensPerPhase);

      // A test iteration of the project session.
      await writeFile(join(cf, 'test-results-iteration-1.md'), '3 passed, 2 failed in 1.5s\n');
      await writeFile(join(cf, 'test-results-iteration-2.md'), '5 passed in 2s\n');
      await w.project(join(cf, 'test-results-iteration-1.md'));
      await w.project(join(cf, 'test-results-iteration-2.md'));
      r = await w.recompute();
      assert.deepEqual(r.read, []);
      assert.equal(r.analytics.avgTestIterationsToGreen, 2);
      assert.deepEqual(r.analytics, await w.fromScratch());

      // Changes across several sessions at once.
      push(w, 's1', 'Deploy', T0 + 90_000, 'completed');
      push(w, 's4', 'Deploy', T0 + 95_000);
      r = await w.recompute();
      assert.deepEqual(r.read, []);
      assert.equal(r.fed, 2);
      assert.deepEqual(r.analytics, await w.fromScratch());

      // A stored transition before s4's last one (the engine keeps its own in order, but the
      // store is the truth): s4 is read whole again.
      await w.store.addTransition({
        sessionKey: 's4',
        from: 'Builder',
        to: 'Docs',
        at: T0 + 94_000,
        phaseNumber: null,
        status: 'in_progress',
      });
      r = await w.recompute();
      assert.deepEqual(r.read, ['s4']);
      assert.deepEqual(r.analytics, await w.fromScratch());
      push(w, 's4', 'Review', T0 + 99_000);
      r = await w.recompute();
      assert.deepEqual(r.read, []);
      assert.deepEqual(r.analytics, await w.fromScratch());

      // Retention: s3 is pruned from memory and the store, and leaves the analytics.
      const withS3 = r.analytics;
      const cut = 500_000;
      const pruned = w.sessions.prune(cut);
      assert.deepEqual(pruned, ['s3']);
      w.metrics.forget(pruned);
      await w.store.prune(cut);
      r = await w.recompute();
      // The store deleted rows: every stored session is read whole once.
      const left = (await w.store.listSessions()).map((s) => s.id).sort();
      assert.deepEqual(r.read, left);
      assert.ok(!left.includes('s3'));
      assert.equal(r.analytics.sessions, withS3.sessions - 1);
      assert.notDeepEqual(r.analytics.avgPhaseDurationMs, withS3.avgPhaseDurationMs);
      assert.deepEqual(r.analytics, await w.fromScratch());

      // Read whole once; then only what is new again.
      r = await w.recompute();
      assert.deepEqual(r.read, []);

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
      assert.deepEqual(r.read, []);
      assert.equal(r.fed, 1);
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
  test('a transition stored while a recompute runs is taken by the next one; recomputes run one at a time', async () => {
    const root = await tempDir();
    const store = SqliteStore.open(join(root, 'history.db'), { logger });
    try {
      const since = store.transitionsSince.bind(store);
      let during: (() => void) | null = null;
      const book = new AnalyticsBook({
        store: {
          listSessions: (f) => store.listSessions(f),
          transitionsSince: async (afterId, key) => {
            const read = await since(afterId, key);
            // The session changes after its rows were read, before the recompute ends.
            const hook = during;
            during = null;
            hook?.();
            return read;
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
      const push = (id: string, phase: string, at: number) =>
        sessions.ingestPush({ session_id: id, current_phase: phase, status: 'in_progress' }, at);
      push('x', 'Scout', T0);
      push('y', 'Scout', T0);
      // After the first session is read whole, both get a transition: the second one's is in its
      // whole read, and must not be counted again from the rows read by the next recompute.
      during = () => {
        push('x', 'Test', T0 + 500);
        push('y', 'Test', T0 + 700);
        push('y', 'Deploy', T0 + 900);
      };
      assert.deepEqual((await book.compute()).avgPhaseDurationMs, { Scout: 700, Test: 200 });
      assert.equal(book.fullReads, 2);
      assert.deepEqual((await book.compute()).avgPhaseDurationMs, { Scout: 600, Test: 200 });
      assert.equal(book.fullReads, 2);

      // Two at once: the second waits for the first, nothing is counted twice.
      push('x', 'Deploy', T0 + 1_500);
      const [a, b] = await Promise.all([book.compute(), book.compute()]);
      assert.deepEqual(a.avgPhaseDurationMs, { Scout: 600, Test: 600 });
      assert.deepEqual(b, a);
      assert.equal(book.fullReads, 2);
      sessions.close();
    } finally {
      await store.close();
    }
  });

  test('randomized: after every step the kept figures equal computeAnalytics over the whole stored history', async () => {
    const root = await tempDir();
    const STATES: SessionState[] = ['active', 'completed', 'failed'];
    const KEYS = ['a', 'b', 'c', 'd', 'e'];
    const NAMES = ['Scout', 'Architect', 'Builder', 'Test', 'Deploy'];
    for (let seed = 1; seed <= 6; seed++) {
      const r = rng(seed);
      const int = (n: number) => Math.floor(r() * n);
      const pick = <T>(xs: readonly T[]) => xs[int(xs.length)] as T;
      const store = SqliteStore.open(join(root, `random-${seed}.db`), { logger });
      const extras = new Map<string, SessionExtras>();
      const extrasOf = (key: string): SessionExtras =>
        extras.get(key) ?? { tokensByPhase: null, testIterations: [] };
      const book = new AnalyticsBook({ store, extras: extrasOf });
      /** What was added per stored session, for duplicates and times. */
      const added = new Map<string, PhaseTransition[]>();
      const fullReadsAt: number[] = [];
      const save = (key: string, state: SessionState, changedAt = 10_000_000) =>
        store.saveSession(sessionStatus(key, { state, changedAt }), {});
      try {
        for (let step = 0; step < 70; step++) {
          const key = pick(KEYS);
          const fresh = !added.has(key);
          if (fresh) {
            await save(key, 'active');
            added.set(key, []);
          }
          const list = added.get(key) as PhaseTransition[];
          const op = int(100);
          let what = '';
          if (op < 50) {
            what = 'append';
            for (let i = 0, n = 1 + int(6); i < n; i++) {
              const lastAt = list.at(-1)?.at ?? T0;
              const kind = int(10);
              if (kind === 0 && list.length > 0) {
                // A duplicate: the store keeps one row per session, time and phase.
                const d = pick(list);
                await store.addTransition({ ...d, status: 'again' });
                continue;
              }
              const at =
                kind === 1
                  ? lastAt - 1 - int(5_000) // earlier than the last one
                  : lastAt + pick([0, 0, 1, 250, 1_000, 60_000 + int(100_000)]);
              const t: PhaseTransition = {
                sessionKey: key,
                from: list.at(-1)?.to ?? null,
                to: pick(NAMES),
                at,
                phaseNumber: null,
                status: 'in_progress',
              };
              list.push(t);
              await store.addTransition(t);
            }
          } else if (op < 60) {
            what = 'state';
            await save(key, pick(STATES));
            book.markDirty(key);
          } else if (op < 70) {
            what = 'tokens';
            const tokensByPhase: Record<string, { input: number; output: number }> = {};
            for (let i = 0, n = int(3); i < n; i++)
              tokensByPhase[pick(NAMES)] = { input: int(10_000), output: int(2_000) };
            extras.set(key, { ...extrasOf(key), tokensByPhase });
            book.markDirty(key);
          } else if (op < 80) {
            what = 'tests';
            const testIterations: TestIteration[] = [...extrasOf(key).testIterations];
            testIterations.push({
              iteration: 1 + int(5),
              passed: int(10),
              failed: int(3),
              skipped: null,
              total: null,
              durationMs: null,
              source: 'test-results.json',
              updatedAt: T0,
            });
            extras.set(key, { ...extrasOf(key), testIterations });
            book.markDirty(key);
          } else if (op < 84) {
            what = 'forget';
            book.forget(key);
          } else if (op < 86) {
            what = 'reset';
            book.reset();
          } else if (op < 92) {
            // Retention deletes the session and its transitions; it may come back later.
            what = 'prune';
            await save(key, 'completed', 1);
            await store.prune(2);
            added.delete(key);
            if (r() < 0.6) {
              // Back before the next recompute (its rows may even reuse the deleted ids).
              what = 'prune, back';
              await save(key, 'active');
              const back: PhaseTransition[] = [];
              for (let i = 0, n = 1 + int(3); i < n; i++) {
                const t: PhaseTransition = {
                  sessionKey: key,
                  from: null,
                  to: pick(NAMES),
                  at: T0 + 500_000 + i * 1_000,
                  phaseNumber: null,
                  status: 'in_progress',
                };
                back.push(t);
                await store.addTransition(t);
              }
              added.set(key, back);
            }
          } else what = 'nothing';
          const before = book.fullReads;
          const got = await book.compute();
          fullReadsAt.push(book.fullReads - before);
          const statuses = await store.listSessions();
          const expected = computeAnalytics(
            await Promise.all(
              statuses.map(async (st) => ({
                state: st.state,
                transitions: await store.transitions(st.id),
                ...extrasOf(st.id),
              })),
            ),
          );
          assert.deepEqual(got, expected, `seed ${seed}, step ${step} (${what})`);
          if (!fresh && ['nothing', 'tokens', 'tests', 'state'].includes(what))
            assert.equal(book.fullReads, before, `seed ${seed}, step ${step}: read whole`);
        }
        // Mostly nothing is read whole: only new, forgotten, pruned or out-of-order sessions.
        const quiet = fullReadsAt.filter((n) => n === 0).length;
        assert.ok(
          quiet > fullReadsAt.length / 2,
          `seed ${seed}: ${quiet} recomputes without reads`,
        );
      } finally {
        await store.close();
      }
    }
  });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'analytics-book-'));
  dirs.push(dir);
  return dir;
}
