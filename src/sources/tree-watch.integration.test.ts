import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { type TreeFileKind, TreeWatch, type TreeWatchOptions } from './tree-watch.ts';

interface Seen {
  kind: TreeFileKind;
  rel: string;
  size?: number;
}

const temps: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ls-tree-'));
  temps.push(dir);
  return dir;
}
after(async () => {
  for (const dir of temps) await rm(dir, { recursive: true, force: true });
});

/** A tree watch whose reports are recorded; `until` waits for one. */
function watched(root: string, opts: Partial<TreeWatchOptions> = {}) {
  const seen: Seen[] = [];
  const errors: string[] = [];
  let rootGone = 0;
  let goneDone: () => void = () => undefined;
  const gone = new Promise<void>((done) => {
    goneDone = done;
  });
  let waiters: { pred: (s: Seen) => boolean; done: () => void }[] = [];
  const tree = new TreeWatch({
    root,
    depth: 20,
    ignore: (name) => name === 'node_modules',
    onFile: (kind, path, stats) => {
      const entry: Seen = { kind, rel: path.slice(root.length + 1) };
      if (stats) entry.size = stats.size;
      seen.push(entry);
      waiters = waiters.filter((w) => {
        if (!w.pred(entry)) return true;
        w.done();
        return false;
      });
    },
    onRootGone: () => {
      rootGone++;
      goneDone();
    },
    onError: (error) => errors.push(error.code ?? 'unknown'),
    ...opts,
  });
  const until = (pred: (s: Seen) => boolean) =>
    new Promise<void>((done) => {
      if (seen.some(pred)) return done();
      waiters.push({ pred, done });
    });
  return { tree, seen, errors, until, gone, rootGone: () => rootGone };
}

function fsEventHandles(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'FSEventWrap').length;
}

describe('TreeWatch', () => {
  it('sees files written the instant their new folder exists', async (t) => {
    const root = await tempDir();
    const w = watched(root);
    t.after(() => w.tree.close());
    await w.tree.start();
    for (let i = 0; i < 40; i++) {
      // Synchronous, so nothing of ours runs between the mkdir and the write.
      mkdirSync(join(root, `p${i}/.context-foundry`), { recursive: true });
      writeFileSync(join(root, `p${i}/.context-foundry/current-phase.json`), '{}');
      writeFileSync(join(root, `p${i}/.context-foundry/test-results-iteration-1.md`), '# 1');
    }
    for (let i = 0; i < 40; i++) {
      await w.until((s) => s.rel === `p${i}/.context-foundry/current-phase.json`);
      await w.until((s) => s.rel === `p${i}/.context-foundry/test-results-iteration-1.md`);
    }
    const adds = w.seen.filter((s) => s.kind === 'add');
    assert.equal(adds.length, 80, 'each file added once');
  });

  it('reports the last write of a burst, and unlinks the files of a removed folder', async (t) => {
    const root = await tempDir();
    await mkdir(join(root, 'a/b'), { recursive: true });
    await writeFile(join(root, 'a/b/one.md'), '1');
    await writeFile(join(root, 'a/two.md'), '2');
    const w = watched(root);
    t.after(() => w.tree.close());
    await w.tree.start();
    assert.deepEqual(w.seen.map((s) => s.rel).sort(), ['a/b/one.md', 'a/two.md']);

    for (let i = 1; i <= 50; i++) writeFileSync(join(root, 'a/two.md'), 'x'.repeat(i));
    await w.until((s) => s.rel === 'a/two.md' && s.size === 50);

    await rm(join(root, 'a'), { recursive: true });
    await w.until((s) => s.kind === 'unlink' && s.rel === 'a/b/one.md');
    await w.until((s) => s.kind === 'unlink' && s.rel === 'a/two.md');
  });

  it('stops at the depth limit and skips ignored folders', async (t) => {
    const root = await tempDir();
    await mkdir(join(root, 'a/b'), { recursive: true });
    await mkdir(join(root, 'node_modules/x'), { recursive: true });
    await writeFile(join(root, 'a/near.md'), '1');
    await writeFile(join(root, 'a/b/far.md'), '1');
    await writeFile(join(root, 'node_modules/x/i.js'), '1');
    const w = watched(root, { depth: 1 });
    t.after(() => w.tree.close());
    await w.tree.start();
    assert.deepEqual(
      w.seen.map((s) => s.rel),
      ['a/near.md'],
    );
    assert.equal(w.tree.folders, 2);
  });

  it('tells a child named like the root from the root itself', async (t) => {
    const parent = await tempDir();
    const root = join(parent, 'proj');
    await mkdir(root);
    await writeFile(join(root, 'keep.md'), 'k');
    const w = watched(root);
    t.after(() => w.tree.close());
    await w.tree.start();
    await writeFile(join(root, 'proj'), 'same name as the root');
    await w.until((s) => s.kind === 'add' && s.rel === 'proj');
    await rm(join(root, 'proj'));
    await w.until((s) => s.kind === 'unlink' && s.rel === 'proj');
    assert.equal(w.rootGone(), 0);
    assert.ok(!w.seen.some((s) => s.rel === 'keep.md' && s.kind !== 'add'));

    await rm(root, { recursive: true });
    await w.gone;
  });

  it('opens no watch after close, even with folder reads in flight', async () => {
    const root = await tempDir();
    for (let i = 0; i < 30; i++) await mkdir(join(root, `d${i}/e/f`), { recursive: true });
    const before = fsEventHandles();
    const w = watched(root);
    const started = w.tree.start();
    await new Promise((done) => setImmediate(done));
    w.tree.close();
    await started;
    assert.equal(w.tree.folders, 0);
    assert.equal(fsEventHandles(), before, 'every fs.watch handle is closed');
  });

  it('reads a tree through a few reads at a time, and a close lets the waiting ones go', async () => {
    const root = await tempDir();
    for (let i = 0; i < 40; i++) {
      await mkdir(join(root, `p${i}/.cf`), { recursive: true });
      await writeFile(join(root, `p${i}/.cf/x.json`), '{}');
    }
    const w = watched(root, { concurrency: 2 });
    await w.tree.start();
    assert.equal(
      w.seen.filter((s) => s.kind === 'add').length,
      40,
      'every file, however few at a time',
    );
    assert.equal(w.tree.foldersRead, 81);
    w.tree.close();

    // Closed with most reads still waiting for a slot: start() ends all the same.
    const again = watched(root, { concurrency: 1 });
    const started = again.tree.start();
    await new Promise((done) => setImmediate(done));
    again.tree.close();
    await started;
    assert.ok(again.seen.length < 40);
  });
});
