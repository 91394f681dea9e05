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
    await restored.restore('a');
    await restored.restore('b');
    await restored.restore('never-logged');
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
    await fresh.restore('s');
    assert.deepEqual(
      fresh.tail('s', 100).map((l) => l.n),
      [8, 9, 10, 11, 12],
    );
    fresh.append('s', { at: 13, level: 'info', text: 'l13' });
    await fresh.restore('s');
    assert.deepEqual(
      fresh.tail('s', 100).map((l) => l.n),
      [9, 10, 11, 12, 13],
      'a second restore does not replace live lines',
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
