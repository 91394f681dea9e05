import assert from 'node:assert/strict';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { captureLogger, session, tempDir, tokenPoint } from '../../test/helpers/store.ts';
import { SqliteStore } from './sqlite-store.ts';
import type { StoreHealth } from './types.ts';

/** Resolves with the next health change the store reports. */
function nextHealth(store: SqliteStore): Promise<StoreHealth> {
  return new Promise((resolve) => {
    const off = store.onHealthChange((health) => {
      off();
      resolve(health);
    });
  });
}

const pageCount = (store: SqliteStore) =>
  store.database.prepare('PRAGMA page_count').get()?.page_count as number;

/** Caps the file at its current size: the next write that needs a page fails with SQLITE_FULL. */
function fillDisk(store: SqliteStore): void {
  store.database.exec(`PRAGMA max_page_count = ${pageCount(store)}`);
}

function freeDisk(store: SqliteStore): void {
  store.database.exec('PRAGMA max_page_count = 1073741823');
}

const big = (i: number) => ({ payload: `${i}:${'y'.repeat(8_000)}` });

describe('SqliteStore when the disk is full', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    tmp = tempDir();
  });
  afterEach(() => tmp.cleanup());

  it('keeps failed writes, reports health, logs once, and replays them when space returns', async () => {
    const { logger, lines } = captureLogger();
    const store = SqliteStore.open(join(tmp.dir, 'full.db'), {
      logger,
      retryInitialMs: 5,
      retryMaxMs: 20,
    });
    await store.saveSession(session('s', { changedAt: 1 }), { first: true });
    fillDisk(store);

    const failed = nextHealth(store);
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 50; i++) {
      writes.push(store.saveSession(session(`big-${i}`), big(i)));
      writes.push(
        store.addTransition({
          sessionKey: 's',
          from: null,
          to: `P${i}`,
          at: i,
          phaseNumber: null,
          status: 's',
        }),
      );
      writes.push(store.addTokenPoint('s', tokenPoint(i, i)));
    }
    await Promise.all(writes); // never rejects
    const down = await failed;
    assert.equal(down.writable, false);
    assert.match(down.lastError ?? '', /SQLITE_FULL/);
    assert.equal(typeof down.lastErrorAt, 'number');
    assert.equal(store.health().pending, 150);

    // Later writes join the queue; the session row is coalesced to its newest value.
    await store.saveSession(session('s', { changedAt: 2 }), { second: true });
    await store.saveSession(session('s', { changedAt: 3 }), { third: true });
    assert.equal(store.health().pending, 151);
    assert.equal(store.health().writable, false);

    // Reads keep working on what was committed.
    assert.deepEqual((await store.getSession('s'))?.document, { first: true });
    const errors = lines.filter((l) => l.level >= 50);
    assert.equal(errors.length, 1, 'one log line, not one per write');

    const recovered = nextHealth(store);
    freeDisk(store);
    const up = await recovered;
    assert.deepEqual(
      { ...up, lastErrorAt: null },
      {
        writable: true,
        lastError: null,
        pending: 0,
        dropped: 0,
        lastErrorAt: null,
      },
    );
    assert.ok(
      (up.lastErrorAt ?? 0) >= (down.lastErrorAt ?? 0),
      'the time of the last failure is kept',
    );

    assert.deepEqual((await store.getSession('s'))?.document, { third: true });
    assert.equal((await store.listSessions()).length, 51);
    assert.equal((await store.transitions('s')).length, 50);
    assert.equal((await store.tokenPoints('s')).length, 50);
    assert.deepEqual((await store.getSession('big-49'))?.document, big(49));
    assert.equal(lines.filter((l) => l.msg.includes('writable again')).length, 1);

    await store.saveSession(session('after'), {});
    assert.equal((await store.getSession('after'))?.status.id, 'after');
    await store.close();
  });

  it('bounds the pending queue, dropping the oldest writes and counting them', async () => {
    const { logger, lines } = captureLogger();
    const store = SqliteStore.open(join(tmp.dir, 'cap.db'), {
      logger,
      pendingCap: 10,
      retryInitialMs: 60_000,
    });
    await store.saveSession(session('s'), {});
    fillDisk(store);
    const writes = [];
    for (let i = 0; i < 25; i++) writes.push(store.saveSession(session(`big-${i}`), big(i)));
    await Promise.all(writes);
    assert.equal(store.health().pending, 10);
    assert.equal(store.health().dropped, 15);
    assert.equal(lines.filter((l) => l.msg.includes('queue is full')).length, 1);

    freeDisk(store);
    assert.equal(store.retryPending(), true);
    const ids = (await store.listSessions()).map((s) => s.id).sort();
    const expected = ['s', ...Array.from({ length: 10 }, (_, i) => `big-${i + 15}`)].sort();
    assert.deepEqual(ids, expected, 'the newest writes survived');
    assert.equal(store.health().dropped, 15);
    await store.close();
  });

  it('frees space with prune and then writes the pending queue', async () => {
    const { logger } = captureLogger();
    const store = SqliteStore.open(join(tmp.dir, 'prune-recovers.db'), {
      logger,
      retryInitialMs: 60_000,
    });
    for (let i = 0; i < 20; i++)
      void store.saveSession(session(`old-${i}`, { changedAt: i }), big(i));
    await store.saveSession(session('keep', { changedAt: 100 }), {});
    fillDisk(store);
    await store.saveSession(session('new', { changedAt: 200 }), big(99));
    assert.equal(store.health().writable, false);

    assert.deepEqual(await store.prune(50), { sessions: 20 });
    assert.equal(store.health().writable, true);
    assert.deepEqual(
      (await store.listSessions()).map((s) => s.id),
      ['new', 'keep'],
    );
    freeDisk(store);
    await store.close();
  });

  it('tries once more on close and reports what it could not save', async () => {
    const { logger, lines } = captureLogger();
    const store = SqliteStore.open(join(tmp.dir, 'close-full.db'), {
      logger,
      retryInitialMs: 60_000,
    });
    await store.saveSession(session('s'), {});
    fillDisk(store);
    await store.saveSession(session('lost'), big(1));
    await store.close();
    assert.equal(store.health().pending, 1);
    assert.equal(lines.filter((l) => l.msg.includes('closing with 1 writes')).length, 1);
  });
});
