import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rename, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import type { FileEvent, FileHandler } from './types.ts';
import { RootWatcher } from './watcher.ts';

interface Seen {
  kind: FileEvent['kind'];
  rel: string;
  size?: number;
}

/** Records routed events and lets a test wait for one. */
function recorder(root: string, filter: (rel: string) => boolean = () => true) {
  const seen: Seen[] = [];
  let waiters: { pred: (s: Seen) => boolean; done: () => void }[] = [];
  const handler: FileHandler = {
    name: 'recorder',
    match: filter,
    handle(event) {
      const rel = event.path.slice(root.length + 1);
      const entry: Seen = { kind: event.kind, rel };
      if (event.stats) entry.size = event.stats.size;
      seen.push(entry);
      waiters = waiters.filter((w) => {
        if (!w.pred(entry)) return true;
        w.done();
        return false;
      });
    },
  };
  const waitUntil = (pred: (s: Seen) => boolean) =>
    new Promise<void>((done) => {
      if (seen.some(pred)) return done();
      waiters.push({ pred, done });
    });
  const waitFor = (kind: FileEvent['kind'], rel: string) =>
    waitUntil((s) => s.kind === kind && s.rel === rel);
  return { seen, handler, waitFor, waitUntil };
}

function capturingLogger() {
  const lines: { level: number; msg: string; code?: string }[] = [];
  const listeners = new Set<() => void>();
  const logger = pino(
    { level: 'debug' },
    {
      write: (s: string) => {
        lines.push(JSON.parse(s));
        for (const listener of listeners) listener();
      },
    },
  );
  const logged = (pattern: RegExp) =>
    new Promise<void>((done) => {
      const check = () => {
        if (!lines.some((l) => pattern.test(l.msg))) return;
        listeners.delete(check);
        done();
      };
      listeners.add(check);
      check();
    });
  return { lines, logger, logged };
}

const temps: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ls-watch-'));
  temps.push(dir);
  return dir;
}
after(async () => {
  for (const dir of temps) await rm(dir, { recursive: true, force: true });
});

for (const mode of ['native', 'polling'] as const) {
  describe(`RootWatcher (${mode})`, () => {
    const pollMs = mode === 'polling' ? 50 : undefined;

    it('delivers existing files as add before start resolves, skipping heavy folders', async (t) => {
      const root = await tempDir();
      await mkdir(join(root, 'proj/.context-foundry'), { recursive: true });
      await writeFile(join(root, 'proj/.context-foundry/current-phase.json'), '{}');
      await mkdir(join(root, 'proj/node_modules/pkg'), { recursive: true });
      await writeFile(join(root, 'proj/node_modules/pkg/index.js'), 'x');
      await mkdir(join(root, 'proj/.git'), { recursive: true });
      await writeFile(join(root, 'proj/.git/HEAD'), 'x');
      // A symlink loop must neither hang the scan nor be followed.
      await symlink(root, join(root, 'proj/loop'));
      const rec = recorder(root);
      const { logger } = capturingLogger();
      const watcher = new RootWatcher({ roots: [root], handlers: [rec.handler], logger, pollMs });
      t.after(() => watcher.stop());
      await watcher.start();
      assert.ok(
        rec.seen.some(
          (s) => s.kind === 'add' && s.rel === 'proj/.context-foundry/current-phase.json',
        ),
      );
      assert.equal(rec.seen.filter((s) => /node_modules|\.git\//.test(s.rel)).length, 0);
      assert.ok(!rec.seen.some((s) => s.rel.startsWith('proj/loop/')));
      assert.ok(watcher.stats.events >= 1);
    });

    it('routes create, modify, delete, rename and new nested folders by relative path', async (t) => {
      const root = await tempDir();
      const rec = recorder(root, (rel) => rel.endsWith('.json'));
      const other = recorder(root, (rel) => rel.endsWith('.txt'));
      const { logger } = capturingLogger();
      const watcher = new RootWatcher({
        roots: [root],
        handlers: [rec.handler, other.handler],
        logger,
        pollMs,
      });
      t.after(() => watcher.stop());
      await watcher.start();

      await writeFile(join(root, 'a.json'), '1');
      await rec.waitFor('add', 'a.json');
      await writeFile(join(root, 'a.json'), '22');
      await rec.waitFor('change', 'a.json');
      await rename(join(root, 'a.json'), join(root, 'b.json'));
      await rec.waitFor('unlink', 'a.json');
      await rec.waitFor('add', 'b.json');
      await unlink(join(root, 'b.json'));
      await rec.waitFor('unlink', 'b.json');

      await mkdir(join(root, 'later/deep/.context-foundry'), { recursive: true });
      await writeFile(join(root, 'later/deep/.context-foundry/current-phase.json'), '{"a":1}');
      // writeFile creates the file empty, then writes it: the add may carry
      // either size, but the written content is always reported in the end.
      const nested = 'later/deep/.context-foundry/current-phase.json';
      await rec.waitUntil((s) => s.rel === nested && s.size === 7);
      assert.equal(rec.seen.find((s) => s.rel === nested)?.kind, 'add');

      // A fast burst of in-place rewrites: the last one must be delivered.
      const burst = join(root, 'burst.json');
      await writeFile(burst, '1');
      await rec.waitFor('add', 'burst.json');
      for (let i = 2; i <= 30; i++) await writeFile(burst, 'x'.repeat(i));
      await rec.waitUntil((s) => s.rel === 'burst.json' && s.size === 30);

      await writeFile(join(root, 'note.txt'), 'x');
      await other.waitFor('add', 'note.txt');
      assert.ok(!rec.seen.some((s) => s.rel === 'note.txt'));
      assert.ok(!other.seen.some((s) => s.rel.endsWith('.json')));
    });

    it('warns about a missing root, picks it up when it appears, vanishes and comes back', async (t) => {
      const parent = await tempDir();
      const root = join(parent, 'later-root');
      const rec = recorder(root);
      const { logger, lines, logged } = capturingLogger();
      const watcher = new RootWatcher({
        roots: [root],
        handlers: [rec.handler],
        logger,
        pollMs,
        retryMs: 30,
      });
      t.after(() => watcher.stop());
      await watcher.start();
      await logged(/does not exist/);

      await mkdir(join(root, 'p'), { recursive: true });
      await writeFile(join(root, 'p/x.json'), '1');
      await rec.waitFor('add', 'p/x.json');

      await rm(root, { recursive: true });
      await logged(/vanished/);
      await mkdir(join(root, 'q'), { recursive: true });
      await writeFile(join(root, 'q/y.json'), '1');
      await rec.waitFor('add', 'q/y.json');
      assert.equal(lines.filter((l) => /does not exist/.test(l.msg)).length, 1);
      assert.equal(lines.filter((l) => /vanished/.test(l.msg)).length, 1);
    });
  });
}

describe('RootWatcher handler failures', () => {
  it('counts and logs a throwing or rejecting handler and keeps routing', async (t) => {
    const root = await tempDir();
    const rec = recorder(root);
    const { logger, lines, logged } = capturingLogger();
    const throwing: FileHandler = {
      name: 'throws',
      match: () => true,
      handle() {
        throw new Error('boom');
      },
    };
    const rejecting: FileHandler = {
      name: 'rejects',
      match: () => true,
      handle: async () => Promise.reject(new Error('nope')),
    };
    const watcher = new RootWatcher({
      roots: [root],
      handlers: [throwing, rejecting, rec.handler],
      logger,
    });
    t.after(() => watcher.stop());
    await watcher.start();
    await writeFile(join(root, 'z.json'), '1');
    await rec.waitFor('add', 'z.json');
    await logged(/file handler failed/);
    // The throwing handler fails synchronously; the rejection lands a tick later.
    await new Promise((done) => setImmediate(done));
    assert.ok(watcher.stats.errors >= 2);
    assert.ok(lines.filter((l) => l.msg === 'file handler failed').length >= 2);
  });
});
