import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { agent, captureLogger, session, tempDir, tokenPoint } from '../../test/helpers/store.ts';
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
