import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type PostgresServer, startPostgres } from '../../test/helpers/services.ts';
import {
  agent,
  type CapturedLog,
  captureLogger,
  decision,
  session,
  tempDir,
  testIteration,
  tokenPoint,
} from '../../test/helpers/store.ts';
import type { LogLine, PhaseTransition } from '../shared/model.ts';
import { PostgresStore } from './postgres-store.ts';
import { SqliteStore } from './sqlite-store.ts';
import type { HistoryStore } from './types.ts';

/**
 * One contract, both history stores: what the engines rely on from
 * `SessionStore`, `MetricsStore` and `LogStore` holds on SQLite (the embedded
 * default) and on PostgreSQL alike. What only one of them does (SQLite's
 * pragmas and turn transactions, PostgreSQL's migration lock and outage
 * queue) is tested beside it.
 */
interface Opened {
  store: HistoryStore;
  lines: CapturedLog[];
}

const transition = (over: Partial<PhaseTransition> = {}): PhaseTransition => ({
  sessionKey: 's',
  from: null,
  to: 'Scout',
  at: 100,
  phaseNumber: '2/7',
  status: 'researching',
  ...over,
});

function contract(name: string, open: () => Promise<Opened>, cleanup: () => Promise<void>) {
  describe(`${name} history store`, () => {
    const opened: Opened[] = [];
    const fresh = async () => {
      const o = await open();
      opened.push(o);
      return o;
    };
    after(async () => {
      for (const o of opened) await o.store.close();
      await cleanup();
    });

    it('saves, updates, lists and filters sessions with their documents', async () => {
      const { store } = await fresh();
      const doc = { session_id: 'a', current_phase: 'Scout', extra: [1, 2, { x: null }] };
      await store.saveSession(session('a', { changedAt: 10 }), doc);
      await store.saveSession(session('b', { changedAt: 30, state: 'completed' }), { b: 1 });
      await store.saveSession(session('c', { changedAt: 20, state: 'failed' }), null);
      await store.saveSession(session('a', { changedAt: 40, currentPhase: 'Builder' }), doc);
      assert.deepEqual(await store.getSession('a'), {
        status: session('a', { changedAt: 40, currentPhase: 'Builder' }),
        document: doc,
      });
      assert.deepEqual((await store.getSession('c'))?.document, null);
      assert.equal(await store.getSession('missing'), null);
      assert.deepEqual(
        (await store.listSessions()).map((s) => s.id),
        ['a', 'b', 'c'],
        'newest change first',
      );
      assert.deepEqual(
        (await store.listSessions({ state: 'completed' })).map((s) => s.id),
        ['b'],
      );
      assert.deepEqual(await store.listSessions({ state: 'failed' }), [
        session('c', { changedAt: 20, state: 'failed' }),
      ]);
    });

    it('keeps what the caller passed even if the caller mutates it afterwards', async () => {
      const { store } = await fresh();
      const status = session('m');
      const doc = { n: 1 };
      const saved = store.saveSession(status, doc);
      status.currentPhase = 'Mutated';
      doc.n = 2;
      await saved;
      const got = await store.getSession('m');
      assert.equal(got?.status.currentPhase, 'Scout');
      assert.deepEqual(got?.document, { n: 1 });
    });

    it('records transitions in time order, ignores a replayed one, and lists them since an id', async () => {
      const { store } = await fresh();
      await store.saveSession(session('s'), {});
      const t1 = transition();
      const t2 = transition({ from: 'Scout', to: 'Architect', at: 200, phaseNumber: '3/7' });
      await store.addTransition(t2);
      await store.addTransition(t1);
      await store.addTransition({ ...t1, status: 'replayed' });
      await store.addTransition(t2);
      assert.deepEqual(await store.transitions('s'), [t1, t2]);
      assert.deepEqual(await store.transitions('other'), []);
      const since = await store.transitionsSince(0);
      assert.equal(since.transitions.length, 2);
      assert.equal(since.lastId, Math.max(...since.transitions.map((t) => t.id)));
      assert.equal((await store.transitionsSince(since.lastId)).transitions.length, 0);
    });

    it('accepts a transition queued before its session in the same turn', async () => {
      const { store } = await fresh();
      const t = transition({ sessionKey: 'late', phaseNumber: null, at: 1 });
      await Promise.all([store.addTransition(t), store.saveSession(session('late'), {})]);
      assert.deepEqual(await store.transitions('late'), [t]);
    });

    it('drops an invalid write with a log line without losing the rest of its batch', async () => {
      const { store, lines } = await fresh();
      const orphan = transition({ sessionKey: 'nobody', at: 1 });
      await Promise.all([
        store.saveSession(session('ok'), {}),
        store.addTransition(orphan),
        store.addTransition({ ...orphan, sessionKey: 'ok' }),
      ]);
      assert.equal(store.health().writable, true);
      assert.equal((await store.getSession('ok'))?.status.id, 'ok');
      assert.equal((await store.transitions('ok')).length, 1);
      assert.deepEqual(await store.transitions('nobody'), []);
      assert.equal(lines.filter((l) => l.msg.includes('dropped an invalid write')).length, 1);
    });

    it('round-trips tail offsets with upsert', async () => {
      const { store } = await fresh();
      assert.equal(await store.getOffset('/logs/a.jsonl'), null);
      await store.setOffset({ path: '/logs/a.jsonl', offset: 10, ino: 77, size: 10 });
      await store.setOffset({ path: '/logs/a.jsonl', offset: 4096, ino: 2 ** 40, size: 5000 });
      assert.deepEqual(await store.getOffset('/logs/a.jsonl'), {
        path: '/logs/a.jsonl',
        offset: 4096,
        ino: 2 ** 40,
        size: 5000,
      });
    });

    it('round-trips metrics: token points (deduplicated), test iterations, agents and decisions (upserted)', async () => {
      const { store } = await fresh();
      await store.addTokenPoint('s', tokenPoint(2, 200));
      await store.addTokenPoint('s', tokenPoint(1, 100));
      await store.addTokenPoint('s', tokenPoint(1, 100));
      await store.addTokenPoint('other', tokenPoint(1, 1));
      assert.deepEqual(await store.tokenPoints('s'), [tokenPoint(1, 100), tokenPoint(2, 200)]);
      await store.saveTestIteration('s', testIteration(2, 3));
      await store.saveTestIteration('s', testIteration(1, 5));
      await store.saveTestIteration('s', testIteration(2, 10));
      assert.deepEqual(await store.testIterations('s'), [
        testIteration(1, 5),
        testIteration(2, 10),
      ]);
      await store.saveAgent('s', agent('a1', 'running'));
      await store.saveAgent('s', agent('a2', 'running'));
      await store.saveAgent('s', {
        ...agent('a1', 'completed'),
        endedAt: 9_000,
        durationMs: 6_000,
      });
      assert.deepEqual(await store.agents('s'), [
        { ...agent('a1', 'completed'), endedAt: 9_000, durationMs: 6_000 },
        agent('a2', 'running'),
      ]);
      await store.saveDecision('s', decision('d1', 'first'));
      await store.saveDecision('s', decision('d1', 'renamed'));
      assert.deepEqual(await store.decisions('s'), [decision('d1', 'renamed')]);
      assert.deepEqual(await store.agents('other'), []);
    });

    it('keeps the newest 1000 log lines per session, idempotent on n', async () => {
      const { store } = await fresh();
      const line = (n: number): LogLine => ({ n, at: n * 10, level: 'info', text: `line ${n}` });
      await store.saveLogLines('s', [
        line(1),
        { ...line(2), level: 'event', kind: 'phase_change' },
      ]);
      await store.saveLogLines('s', [line(2), line(3)]);
      assert.deepEqual(await store.logLines('s'), [
        line(1),
        { ...line(2), level: 'event', kind: 'phase_change' },
        line(3),
      ]);
      const many = Array.from({ length: 1500 }, (_, i) => line(i + 4));
      await store.saveLogLines('s', many.slice(0, 700));
      await store.saveLogLines('s', many.slice(700));
      const kept = await store.logLines('s');
      assert.equal(kept.length, 1000);
      assert.equal(kept[0]?.n, 504);
      assert.equal(kept.at(-1)?.n, 1503);
      assert.deepEqual(
        (await store.logLines('s', 2)).map((l) => l.n),
        [1502, 1503],
      );
      assert.deepEqual(await store.logLines('s', 0), []);
      assert.deepEqual(await store.logLines('none', 5), []);
      assert.deepEqual(await store.logHeads(), new Map([['s', 1503]]));
    });

    it('retention prunes old sessions with their rows and counts the deletion', async () => {
      const { store } = await fresh();
      await store.saveSession(session('old', { changedAt: 1_000 }), {});
      await store.saveSession(session('new', { changedAt: 9_000 }), {});
      await store.addTransition(transition({ sessionKey: 'old', at: 1_000 }));
      await store.addTokenPoint('old', tokenPoint(1, 1));
      await store.saveLogLines('old', [{ n: 1, at: 1_000, level: 'info', text: 'x' }]);
      await store.addTokenPoint('never-had-status', { ...tokenPoint(1, 1), at: 500 });
      assert.deepEqual(await store.prune(5_000), { sessions: 1 });
      assert.deepEqual(
        (await store.listSessions()).map((s) => s.id),
        ['new'],
      );
      assert.deepEqual(await store.transitions('old'), []);
      assert.deepEqual(await store.tokenPoints('old'), []);
      assert.deepEqual(await store.tokenPoints('never-had-status'), []);
      assert.deepEqual(await store.logLines('old'), []);
      assert.equal((await store.transitionsSince(0)).deletions, 1);
      assert.deepEqual(await store.prune(5_000), { sessions: 0 });
    });
  });
}

const tmp = tempDir();
let sqliteFiles = 0;
contract(
  'SQLite',
  async () => {
    const { logger, lines } = captureLogger();
    const store = SqliteStore.open(join(tmp.dir, `h${++sqliteFiles}.db`), { logger });
    return { store, lines };
  },
  async () => tmp.cleanup(),
);

let pg: PostgresServer | null = null;
let databases = 0;
before(async () => {
  pg = await startPostgres();
});
contract(
  'PostgreSQL',
  async () => {
    const server = pg as PostgresServer;
    const name = `contract${++databases}`;
    await server.psql(`CREATE DATABASE ${name}`);
    const { logger, lines } = captureLogger();
    const store = await PostgresStore.open(server.url.replace(/\/postgres$/, `/${name}`), {
      logger,
    });
    return { store, lines };
  },
  async () => {
    await pg?.close();
  },
);
