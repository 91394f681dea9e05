import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import type { LogLine } from '../shared/model.ts';
import { SqliteStore } from '../store/sqlite-store.ts';
import { MemoryHub } from './hub.ts';
import { LogBook } from './logbook.ts';

const silent = pino({ level: 'silent' });
const temps: string[] = [];
after(async () => {
  for (const dir of temps) await rm(dir, { recursive: true, force: true });
});

async function dbPath(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ls-logbook-'));
  temps.push(dir);
  return join(dir, 'history.db');
}

/**
 * Lets the turn's save run: the LogBook hands lines to the store in a
 * microtask, and the store commits on the setImmediate that queues; ours is
 * queued after it.
 */
async function settle(): Promise<void> {
  await null;
  await new Promise<void>((resolve) => setImmediate(resolve));
}

describe('LogBook with a store', () => {
  it('saves appended lines in one write per session and turn, and restores them after a restart', async () => {
    const path = await dbPath();
    const store = SqliteStore.open(path, { logger: silent });
    const book = new LogBook(new MemoryHub(), { store, logger: silent });
    const commits = store.stats().commits;
    const written: LogLine[] = [];
    for (let i = 1; i <= 50; i++) {
      written.push(book.append('a', { at: i, level: 'info', text: `line ${i}` }));
    }
    written.push(book.append('a', { at: 51, level: 'event', text: 'deploy: ok', kind: 'deploy' }));
    book.append('b', { at: 1, level: 'warn', text: 'other session' });
    await settle();
    assert.equal(store.stats().commits - commits, 1, 'one transaction for the whole turn');
    await store.close();

    const reopened = SqliteStore.open(path, { logger: silent });
    const hub = new MemoryHub();
    const restored = new LogBook(hub, { store: reopened });
    await restored.loadHeads();
    assert.equal(hub.get('logs:a'), undefined, 'nothing loaded before a reader asks');
    await restored.warm('a');
    await restored.warm('b');
    assert.equal(restored.warm('never-logged'), null);
    assert.deepEqual(restored.tail('a', 1000), written);
    assert.deepEqual((hub.get('logs:a')?.data as { lines: LogLine[] } | undefined)?.lines, written);
    assert.deepEqual(
      restored.tail('b', 10).map((l) => [l.n, l.text]),
      [[1, 'other session']],
    );
    assert.deepEqual(restored.tail('never-logged', 10), []);

    const next = restored.append('a', { at: 52, level: 'info', text: 'after restart' });
    assert.equal(next.n, 52, 'numbering continues after the stored lines');
    await settle();
    const stored = await reopened.logLines('a');
    assert.deepEqual(
      stored.map((l) => l.n),
      Array.from({ length: 52 }, (_, i) => i + 1),
      'no line stored twice, none missing',
    );
    await reopened.close();
  });

  it('restores only the newest cap lines, and leaves a session that already has lines alone', async () => {
    const store = SqliteStore.open(await dbPath(), { logger: silent });
    after(() => store.close());
    const book = new LogBook(new MemoryHub(), { store, cap: 5 });
    for (let i = 1; i <= 12; i++) book.append('s', { at: i, level: 'info', text: `l${i}` });
    await settle();

    const fresh = new LogBook(new MemoryHub(), { store, cap: 5 });
    await fresh.loadHeads();
    await fresh.warm('s');
    assert.deepEqual(
      fresh.tail('s', 100).map((l) => l.n),
      [8, 9, 10, 11, 12],
    );
    fresh.append('s', { at: 13, level: 'info', text: 'l13' });
    assert.equal(fresh.warm('s'), null, 'lines in memory: nothing to load');
    assert.deepEqual(
      fresh.tail('s', 100).map((l) => l.n),
      [9, 10, 11, 12, 13],
      'a second warm does not replace live lines',
    );
  });

  it('a session forgotten in the same turn is not saved', async () => {
    const store = SqliteStore.open(await dbPath(), { logger: silent });
    after(() => store.close());
    const book = new LogBook(new MemoryHub(), { store });
    book.append('gone', { at: 1, level: 'info', text: 'x' });
    book.append('kept', { at: 1, level: 'info', text: 'y' });
    book.forget('gone');
    await settle();
    assert.deepEqual(await store.logLines('gone'), []);
    assert.equal((await store.logLines('kept')).length, 1);
  });
});

describe('LogBook memory follows what is read', () => {
  it('a line for a session not in memory continues its numbering; a reader then gets every line in order', async () => {
    const store = SqliteStore.open(await dbPath(), { logger: silent });
    after(() => store.close());
    const first = new LogBook(new MemoryHub(), { store });
    for (let i = 1; i <= 3; i++) first.append('s', { at: i, level: 'info', text: `l${i}` });
    await settle();

    const hub = new MemoryHub();
    const book = new LogBook(hub, { store });
    await book.loadHeads();
    assert.equal(book.head('s'), 3);
    assert.equal(book.append('s', { at: 4, level: 'info', text: 'l4' }).n, 4);
    const loading = book.warm('s');
    assert.ok(loading, 'older lines are still in the store only');
    book.append('s', { at: 5, level: 'info', text: 'l5' });
    await loading;
    const topicLines = (hub.get('logs:s')?.data as { lines: LogLine[] } | undefined)?.lines ?? [];
    assert.deepEqual(
      topicLines.map((l) => l.n),
      [1, 2, 3, 4, 5],
    );
    assert.deepEqual(book.tail('s', 10), topicLines);
    book.append('s', { at: 6, level: 'info', text: 'l6' });
    assert.deepEqual(
      ((hub.get('logs:s')?.data as { lines: LogLine[] } | undefined)?.lines ?? []).map((l) => l.n),
      [1, 2, 3, 4, 5, 6],
      'a line after the load is in the topic once',
    );
    assert.deepEqual(topicLines.length, 5, 'the state handed to the hub is never changed');
    await settle();
    assert.deepEqual(
      (await store.logLines('s')).map((l) => l.n),
      [1, 2, 3, 4, 5, 6],
    );
  });

  it('sweep drops idle logs nobody follows, keeps followed or recent ones, and warm brings them back', async () => {
    const store = SqliteStore.open(await dbPath(), { logger: silent });
    after(() => store.close());
    let now = 1_000;
    const hub = new MemoryHub();
    const book = new LogBook(hub, { store, now: () => now });
    for (const key of ['idle', 'followed', 'recent']) {
      book.append(key, { at: 1, level: 'info', text: `${key} 1` });
      book.append(key, { at: 2, level: 'info', text: `${key} 2` });
    }
    await settle();
    now += 60_000;
    book.append('recent', { at: 3, level: 'info', text: 'recent 3' });
    await settle();
    now += 30_000;
    assert.equal(
      book.sweep((key) => key === 'followed', 60_000),
      1,
    );
    assert.equal(book.size, 2);
    assert.equal(hub.get('logs:idle'), undefined, 'its topic left the hub too');
    assert.equal(book.head('idle'), 2, 'numbering is kept');
    assert.deepEqual(
      book.tail('followed', 10).map((l) => l.n),
      [1, 2],
    );

    await book.warm('idle');
    assert.deepEqual(
      ((hub.get('logs:idle')?.data as { lines: LogLine[] } | undefined)?.lines ?? []).map(
        (l) => l.text,
      ),
      ['idle 1', 'idle 2'],
    );
    assert.equal(book.append('idle', { at: 4, level: 'info', text: 'idle 3' }).n, 3);
    // 2 appends, the removal (a null state), the load, this append: versions never go back.
    assert.equal(hub.get('logs:idle')?.version, 5);
  });

  it('a session forgotten while its lines load stays forgotten', async () => {
    const store = SqliteStore.open(await dbPath(), { logger: silent });
    after(() => store.close());
    const seed = new LogBook(new MemoryHub(), { store });
    seed.append('gone', { at: 1, level: 'info', text: 'x' });
    await settle();
    const hub = new MemoryHub();
    const book = new LogBook(hub, { store });
    await book.loadHeads();
    const loading = book.warm('gone');
    book.forget('gone');
    await loading;
    assert.equal(hub.get('logs:gone'), undefined);
    assert.equal(book.head('gone'), null);
  });
});
