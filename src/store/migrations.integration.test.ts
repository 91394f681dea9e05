import assert from 'node:assert/strict';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { captureLogger, session, tempDir, tokenPoint } from '../../test/helpers/store.ts';
import { MIGRATIONS, migrate, SCHEMA_VERSION, SchemaTooNewError } from './migrations.ts';
import { SqliteStore } from './sqlite-store.ts';

const userVersion = (db: DatabaseSync) =>
  (db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;

describe('migrations', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    tmp = tempDir();
  });
  afterEach(() => tmp.cleanup());

  it('creates every table from an empty file and is idempotent on re-open', async () => {
    const file = join(tmp.dir, 'h.db');
    const { logger } = captureLogger();
    const first = SqliteStore.open(file, { logger });
    assert.equal(userVersion(first.database), SCHEMA_VERSION);
    const tables = first.database
      .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
      .all()
      .map((r) => r.name);
    assert.deepEqual(tables, [
      'agents',
      'alert_events',
      'alerts',
      'decisions',
      'log_lines',
      'notifications',
      'sessions',
      'tail_offsets',
      'test_iterations',
      'token_points',
      'transitions',
    ]);
    await first.saveSession(session('kept'), { a: 1 });
    await first.close();

    const second = SqliteStore.open(file, { logger });
    assert.equal(userVersion(second.database), SCHEMA_VERSION);
    assert.deepEqual((await second.getSession('kept'))?.document, { a: 1 });
    assert.deepEqual(migrate(second.database, file), {
      from: SCHEMA_VERSION,
      to: SCHEMA_VERSION,
    });
    await second.close();
  });

  it('refuses a database written by a newer version, naming both versions', () => {
    const file = join(tmp.dir, 'newer.db');
    const raw = new DatabaseSync(file);
    raw.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 5}`);
    raw.close();
    assert.throws(
      () => SqliteStore.open(file, { logger: captureLogger().logger }),
      (error: unknown) =>
        error instanceof SchemaTooNewError &&
        error.found === SCHEMA_VERSION + 5 &&
        error.supported === SCHEMA_VERSION &&
        error.message.includes(file) &&
        /upgrade Livestream/.test(error.message),
    );
  });

  it('applies a new step on top of an existing schema and rolls back a failing one', () => {
    const db = new DatabaseSync(':memory:');
    migrate(db, ':memory:');
    const next = [
      ...MIGRATIONS,
      { version: SCHEMA_VERSION + 1, name: 'add notes', sql: 'CREATE TABLE notes (x TEXT)' },
    ];
    assert.deepEqual(migrate(db, ':memory:', next), {
      from: SCHEMA_VERSION,
      to: SCHEMA_VERSION + 1,
    });
    const broken = [
      ...next,
      {
        version: SCHEMA_VERSION + 2,
        name: 'broken',
        sql: 'CREATE TABLE half (x); CREATE TABLE notes (y)',
      },
    ];
    assert.throws(() => migrate(db, ':memory:', broken), /already exists/);
    assert.equal(userVersion(db), SCHEMA_VERSION + 1);
    const half = db.prepare("SELECT name FROM sqlite_schema WHERE name = 'half'").get();
    assert.equal(half, undefined, 'the failed step left nothing behind');
    db.close();
  });

  it('names the file when it is not a database', () => {
    const file = join(tmp.dir, 'not-a.db');
    writeFileSync(
      file,
      'this is not sqlite at all, just some text that is long enough '.repeat(40),
    );
    assert.throws(
      () => SqliteStore.open(file, { logger: captureLogger().logger }),
      (error: unknown) => error instanceof Error && error.message.includes(file),
    );
    assert.throws(
      () => SqliteStore.open(tmp.dir, { logger: captureLogger().logger }),
      (error: unknown) =>
        error instanceof Error &&
        error.message.startsWith(`cannot open history database ${tmp.dir}`),
    );
  });
});

describe('prune', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    tmp = tempDir();
  });
  afterEach(() => tmp.cleanup());

  it('deletes old sessions with their rows and gives the space back', async () => {
    const file = join(tmp.dir, 'prune.db');
    const store = SqliteStore.open(file, { logger: captureLogger().logger });
    const big = { blob: 'x'.repeat(20_000) };
    for (let i = 0; i < 60; i++) {
      const key = `old-${i}`;
      void store.saveSession(session(key, { changedAt: 1_000 + i }), big);
      void store.addTransition({
        sessionKey: key,
        from: null,
        to: 'Scout',
        at: 1,
        phaseNumber: null,
        status: 's',
      });
      void store.addTokenPoint(key, tokenPoint(1, 1));
      void store.saveLogLines(key, [{ n: 1, at: 1, level: 'info', text: 'x'.repeat(2_000) }]);
    }
    await store.saveSession(session('recent', { changedAt: 50_000 }), big);
    await store.addTransition({
      sessionKey: 'recent',
      from: null,
      to: 'Scout',
      at: 1,
      phaseNumber: null,
      status: 's',
    });
    await store.addTokenPoint('recent', tokenPoint(1, 1));
    // Metrics of a session that never had a status: kept while recent, pruned once old.
    await store.addTokenPoint('statusless-old', tokenPoint(10, 1));
    await store.addTokenPoint('statusless-new', tokenPoint(90_000, 1));
    store.database.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    const pages = () => store.database.prepare('PRAGMA page_count').get()?.page_count as number;
    const pagesBefore = pages();
    const sizeBefore = statSync(file).size;

    assert.deepEqual(await store.prune(40_000), { sessions: 60 });

    assert.deepEqual(
      (await store.listSessions()).map((s) => s.id),
      ['recent'],
    );
    assert.deepEqual(await store.transitions('old-3'), []);
    assert.deepEqual(await store.tokenPoints('old-3'), []);
    assert.deepEqual(await store.logLines('old-3'), []);
    assert.deepEqual(await store.tokenPoints('statusless-old'), []);
    assert.equal((await store.tokenPoints('statusless-new')).length, 1);
    assert.equal((await store.transitions('recent')).length, 1);
    assert.equal((await store.tokenPoints('recent')).length, 1);
    const freelist = store.database.prepare('PRAGMA freelist_count').get()?.freelist_count;
    assert.equal(freelist, 0);
    assert.ok(pages() < pagesBefore / 5, `${pages()} pages after, ${pagesBefore} before`);
    assert.ok(statSync(file).size < sizeBefore / 5, 'the file itself shrank');
    assert.deepEqual(await store.prune(40_000), { sessions: 0 });
    await store.close();
  });
});
