import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeEach, describe, it } from 'node:test';
import {
  agent,
  captureLogger,
  decision,
  session,
  tempDir,
  testIteration,
  tokenPoint,
} from '../../test/helpers/store.ts';
import type { LogLine } from '../shared/model.ts';
import { SqliteStore } from './sqlite-store.ts';

describe('SqliteStore round trips', () => {
  let tmp: ReturnType<typeof tempDir>;
  let store: SqliteStore;
  let path: string;

  beforeEach(() => {
    tmp = tempDir();
    path = join(tmp.dir, 'nested', 'deeper', 'history.db');
    store = SqliteStore.open(path, { logger: captureLogger().logger });
  });
  afterEach(async () => {
    await store.close();
    tmp.cleanup();
  });

  it('creates parent folders and uses WAL with incremental auto-vacuum', () => {
    const pragma = (name: string) => store.database.prepare(`PRAGMA ${name}`).get()?.[name];
    assert.equal(pragma('journal_mode'), 'wal');
    assert.equal(pragma('auto_vacuum'), 2);
    assert.equal(pragma('foreign_keys'), 1);
    assert.equal(pragma('synchronous'), 1);
    assert.equal(store.database.prepare('PRAGMA busy_timeout').get()?.timeout, 5000);
  });

  it('saves, updates, lists and filters sessions with their documents', async () => {
    const doc = { session_id: 'a', current_phase: 'Scout', extra: [1, 2, { x: null }] };
    await store.saveSession(session('a', { changedAt: 10 }), doc);
    await store.saveSession(session('b', { changedAt: 30, state: 'completed' }), { b: 1 });
    await store.saveSession(session('c', { changedAt: 20, state: 'failed' }), null);
    await store.saveSession(session('a', { changedAt: 40, currentPhase: 'Builder' }), doc);

    const a = await store.getSession('a');
    assert.deepEqual(a, {
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

  it('records transitions in time order and ignores a replayed one', async () => {
    await store.saveSession(session('s'), {});
    const t1 = {
      sessionKey: 's',
      from: null,
      to: 'Scout',
      at: 100,
      phaseNumber: '2/7',
      status: 'researching',
    };
    const t2 = {
      sessionKey: 's',
      from: 'Scout',
      to: 'Architect',
      at: 200,
      phaseNumber: '3/7',
      status: 'designing',
    };
    await store.addTransition(t2);
    await store.addTransition(t1);
    await store.addTransition({ ...t1, status: 'replayed' });
    await store.addTransition(t2);
    assert.deepEqual(await store.transitions('s'), [t1, t2]);
    assert.deepEqual(await store.transitions('other'), []);
  });

  it('accepts a transition queued before its session in the same turn', async () => {
    const t = {
      sessionKey: 'late',
      from: null,
      to: 'Scout',
      at: 1,
      phaseNumber: null,
      status: 'starting',
    };
    const first = store.addTransition(t);
    const second = store.saveSession(session('late'), {});
    await Promise.all([first, second]);
    assert.deepEqual(await store.transitions('late'), [t]);
  });

  it('drops an invalid write with a log line without losing the rest of its batch', async () => {
    const { logger, lines } = captureLogger();
    const own = SqliteStore.open(join(tmp.dir, 'invalid.db'), { logger });
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
        own.saveSession(session('ok'), {}),
        own.addTransition(orphan),
        own.addTransition({ ...orphan, sessionKey: 'ok' }),
      ]);
      assert.equal(own.health().writable, true);
      assert.equal((await own.getSession('ok'))?.status.id, 'ok');
      assert.equal((await own.transitions('ok')).length, 1);
      assert.deepEqual(await own.transitions('nobody'), []);
      assert.equal(lines.filter((l) => l.msg.includes('dropped an invalid write')).length, 1);
    } finally {
      await own.close();
    }
  });

  it('refuses values that are not JSON with a log line instead of throwing', async () => {
    const { logger, lines } = captureLogger();
    const own = SqliteStore.open(':memory:', { logger });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await own.saveSession(session('cyclic'), cyclic);
    await own.saveSession(session('fine'), { ok: true });
    assert.equal(await own.getSession('cyclic'), null);
    assert.deepEqual((await own.getSession('fine'))?.document, { ok: true });
    assert.equal(lines.filter((l) => l.msg.includes('not JSON')).length, 1);
    await own.close();
  });

  it('round-trips tail offsets with upsert', async () => {
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
    await store.addTokenPoint('s', tokenPoint(2, 200));
    await store.addTokenPoint('s', tokenPoint(1, 100));
    await store.addTokenPoint('s', tokenPoint(1, 100));
    await store.addTokenPoint('other', tokenPoint(1, 1));
    assert.deepEqual(await store.tokenPoints('s'), [tokenPoint(1, 100), tokenPoint(2, 200)]);

    await store.saveTestIteration('s', testIteration(2, 3));
    await store.saveTestIteration('s', testIteration(1, 5));
    await store.saveTestIteration('s', testIteration(2, 10));
    assert.deepEqual(await store.testIterations('s'), [testIteration(1, 5), testIteration(2, 10)]);

    await store.saveAgent('s', agent('a1', 'running'));
    await store.saveAgent('s', agent('a2', 'running'));
    await store.saveAgent('s', { ...agent('a1', 'completed'), endedAt: 9_000, durationMs: 6_000 });
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
    const line = (n: number): LogLine => ({ n, at: n * 10, level: 'info', text: `line ${n}` });
    await store.saveLogLines('s', [line(1), { ...line(2), level: 'event', kind: 'phase_change' }]);
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
  });

  it('groups the writes of one event-loop turn into one transaction', async () => {
    await store.saveSession(session('batch'), {});
    const before = store.stats().commits;
    const writes = [];
    for (let i = 0; i < 500; i++) {
      writes.push(
        store.addTransition({
          sessionKey: 'batch',
          from: null,
          to: `P${i}`,
          at: i,
          phaseNumber: null,
          status: 's',
        }),
      );
      writes.push(store.addTokenPoint('batch', tokenPoint(i, i)));
    }
    await Promise.all(writes);
    assert.equal(store.stats().commits - before, 1);
    assert.equal((await store.transitions('batch')).length, 500);
  });

  it('lets reads see writes that are still queued', async () => {
    void store.saveSession(session('queued'), { q: 1 });
    void store.addTokenPoint('queued', tokenPoint(1, 1));
    assert.deepEqual((await store.getSession('queued'))?.document, { q: 1 });
    assert.equal((await store.tokenPoints('queued')).length, 1);
  });

  it('skips corrupt rows with one log line and keeps serving the rest', async () => {
    const { logger, lines } = captureLogger();
    const file = join(tmp.dir, 'corrupt.db');
    const own = SqliteStore.open(file, { logger });
    await own.saveSession(session('good'), {});
    await own.saveAgent('good', agent('a', 'running'));
    const raw = new DatabaseSync(file);
    raw.exec(`INSERT INTO sessions VALUES ('bad', 'bad', NULL, 'active', 5, '{not json', '{}')`);
    raw.exec(`INSERT INTO agents VALUES ('good', 'zz', 1, 1, '[]')`);
    raw.exec(`INSERT INTO log_lines VALUES ('good', 1, 1, 'shout', 'x', NULL)`);
    raw.close();
    assert.deepEqual(
      (await own.listSessions()).map((s) => s.id),
      ['good'],
    );
    assert.deepEqual(
      (await own.listSessions()).map((s) => s.id),
      ['good'],
    );
    assert.equal(await own.getSession('bad'), null);
    assert.deepEqual(
      (await own.agents('good')).map((a) => a.agentId),
      ['a'],
    );
    assert.deepEqual(await own.logLines('good'), []);
    const corrupt = lines.filter((l) => l.msg.includes('corrupt row'));
    assert.equal(corrupt.length, 3, JSON.stringify(corrupt));
    await own.close();
  });

  it('closes idempotently, ignores writes after close and refuses reads', async () => {
    const { logger, lines } = captureLogger();
    const own = SqliteStore.open(join(tmp.dir, 'close.db'), { logger });
    void own.saveSession(session('before-close'), {});
    await own.close();
    await own.close();
    await own.saveSession(session('after'), {});
    await own.saveSession(session('after2'), {});
    assert.equal(lines.filter((l) => l.msg.includes('after close')).length, 1);
    await assert.rejects(own.listSessions(), /closed/);
    const again = SqliteStore.open(join(tmp.dir, 'close.db'), { logger });
    assert.deepEqual(
      (await again.listSessions()).map((s) => s.id),
      ['before-close'],
    );
    await again.close();
  });
});
