import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type PostgresServer, startPostgres } from '../../test/helpers/services.ts';
import {
  agent,
  captureLogger,
  decision,
  session,
  testIteration,
  tokenPoint,
} from '../../test/helpers/store.ts';
import type { LogLine } from '../shared/model.ts';
import { PG_MIGRATIONS } from './postgres-migrations.ts';
import { PostgresStore } from './postgres-store.ts';

let pg: PostgresServer;
let databases = 0;

before(async () => {
  pg = await startPostgres();
});
after(async () => {
  await pg.close();
});

/** A store on a fresh database of the throwaway server. */
async function fresh(opts: Parameters<typeof PostgresStore.open>[1] = {}) {
  const name = `t${++databases}`;
  await pg.psql(`CREATE DATABASE ${name}`);
  const url = pg.url.replace(/\/postgres$/, `/${name}`);
  const { logger, lines } = captureLogger();
  const store = await PostgresStore.open(url, { logger, ...opts });
  return { store, url, lines, name };
}

describe('PostgresStore', () => {
  it('round-trips sessions, transitions, offsets, metrics and logs like the SQLite store', async () => {
    const { store } = await fresh();
    try {
      const doc = { session_id: 'a', extra: [1, { x: null }] };
      await store.saveSession(session('a', { changedAt: 10 }), doc);
      await store.saveSession(session('b', { changedAt: 30, state: 'completed' }), { b: 1 });
      await store.saveSession(session('a', { changedAt: 40, currentPhase: 'Builder' }), doc);
      assert.deepEqual(await store.getSession('a'), {
        status: session('a', { changedAt: 40, currentPhase: 'Builder' }),
        document: doc,
      });
      assert.deepEqual(
        (await store.listSessions()).map((s) => s.id),
        ['a', 'b'],
      );
      assert.deepEqual(
        (await store.listSessions({ state: 'completed' })).map((s) => s.id),
        ['b'],
      );

      const t1 = {
        sessionKey: 'a',
        from: null,
        to: 'Scout',
        at: 100,
        phaseNumber: '2/7',
        status: 's',
      };
      const t2 = { ...t1, from: 'Scout', to: 'Architect', at: 200 };
      await store.addTransition(t2);
      await store.addTransition(t1);
      await store.addTransition({ ...t1, status: 'replayed' });
      assert.deepEqual(await store.transitions('a'), [t1, t2]);
      const since = await store.transitionsSince(0);
      assert.equal(since.transitions.length, 2);
      assert.equal(since.lastId, Math.max(...since.transitions.map((t) => t.id)));
      assert.equal((await store.transitionsSince(since.lastId)).transitions.length, 0);

      await store.setOffset({ path: '/l', offset: 10, ino: 2 ** 40, size: 10 });
      assert.deepEqual(await store.getOffset('/l'), {
        path: '/l',
        offset: 10,
        ino: 2 ** 40,
        size: 10,
      });

      await store.addTokenPoint('a', tokenPoint(2, 200));
      await store.addTokenPoint('a', tokenPoint(1, 100));
      await store.addTokenPoint('a', tokenPoint(1, 100));
      assert.deepEqual(await store.tokenPoints('a'), [tokenPoint(1, 100), tokenPoint(2, 200)]);
      await store.saveTestIteration('a', testIteration(2, 3));
      await store.saveTestIteration('a', testIteration(2, 10));
      assert.deepEqual(await store.testIterations('a'), [testIteration(2, 10)]);
      await store.saveAgent('a', agent('a1', 'running'));
      await store.saveAgent('a', agent('a1', 'completed'));
      assert.deepEqual(await store.agents('a'), [agent('a1', 'completed')]);
      await store.saveDecision('a', decision('d1', 'first'));
      await store.saveDecision('a', decision('d1', 'renamed'));
      assert.deepEqual(await store.decisions('a'), [decision('d1', 'renamed')]);

      const line = (n: number): LogLine => ({ n, at: n * 10, level: 'info', text: `line ${n}` });
      await store.saveLogLines('a', [
        line(1),
        { ...line(2), level: 'event', kind: 'phase_change' },
      ]);
      await store.saveLogLines('a', [line(2), line(3)]);
      assert.deepEqual(await store.logLines('a'), [
        line(1),
        { ...line(2), level: 'event', kind: 'phase_change' },
        line(3),
      ]);
      const many = Array.from({ length: 1500 }, (_, i) => line(i + 4));
      await store.saveLogLines('a', many.slice(0, 700));
      await store.saveLogLines('a', many.slice(700));
      const kept = await store.logLines('a');
      assert.equal(kept.length, 1000);
      assert.equal(kept[0]?.n, 504);
      assert.deepEqual(
        (await store.logLines('a', 2)).map((l) => l.n),
        [1502, 1503],
      );
      assert.deepEqual(await store.logHeads(), new Map([['a', 1503]]));
    } finally {
      await store.close();
    }
  });

  it('drops an invalid write with a log line and keeps the rest of its batch', async () => {
    const { store, lines } = await fresh();
    try {
      const orphan = {
        sessionKey: 'nobody',
        from: null,
        to: 'Scout',
        at: 1,
        phaseNumber: null,
        status: 'x',
      };
      await Promise.all([
        store.saveSession(session('ok'), {}),
        store.addTransition(orphan),
        store.addTransition({ ...orphan, sessionKey: 'ok' }),
      ]);
      assert.equal(store.health().writable, true);
      assert.equal((await store.transitions('ok')).length, 1);
      assert.deepEqual(await store.transitions('nobody'), []);
      assert.equal(lines.filter((l) => l.msg.includes('dropped an invalid write')).length, 1);
    } finally {
      await store.close();
    }
  });

  it('retention prunes old sessions with their rows and counts the deletion', async () => {
    const { store } = await fresh();
    try {
      await store.saveSession(session('old', { changedAt: 1_000 }), {});
      await store.saveSession(session('new', { changedAt: 9_000 }), {});
      await store.addTransition({
        sessionKey: 'old',
        from: null,
        to: 'Scout',
        at: 1_000,
        phaseNumber: null,
        status: 's',
      });
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
    } finally {
      await store.close();
    }
  });

  it('replicas starting together migrate once; a newer schema is refused', async () => {
    const { store, url, name } = await fresh();
    await store.close();
    const { logger } = captureLogger();
    const both = await Promise.all([
      PostgresStore.open(url, { logger }),
      PostgresStore.open(url, { logger }),
    ]);
    for (const s of both) await s.close();
    assert.equal(
      Number(await pg.psql('SELECT count(*) FROM livestream_schema', name)),
      PG_MIGRATIONS.length,
    );
    await pg.psql('INSERT INTO livestream_schema VALUES (999)', name);
    await assert.rejects(PostgresStore.open(url, { logger }), /schema version 999/);
  });

  it('keeps writes while PostgreSQL is stopped and replays them in order when it is back', async () => {
    const { store } = await fresh({ retryInitialMs: 50, retryMaxMs: 200 });
    try {
      await store.saveSession(session('s', { changedAt: 1 }), { v: 0 });
      await pg.stop();
      for (let i = 1; i <= 50; i++) {
        await store.saveSession(session('s', { changedAt: 1 + i }), { v: i });
        await store.saveLogLines('s', [{ n: i, at: i, level: 'info', text: `line ${i}` }]);
      }
      assert.equal(store.health().writable, false);
      assert.ok(store.health().pending >= 51, 'upserts collapse, appends are all kept');
      const healthy = new Promise<void>((resolve) => {
        const off = store.onHealthChange((h) => {
          if (h.writable) {
            off();
            resolve();
          }
        });
      });
      await pg.start();
      await healthy;
      assert.deepEqual((await store.getSession('s'))?.document, { v: 50 });
      assert.deepEqual(
        (await store.logLines('s')).map((l) => l.n),
        Array.from({ length: 50 }, (_, i) => i + 1),
      );
      assert.equal(store.health().pending, 0);
    } finally {
      await store.close();
    }
  });
});
