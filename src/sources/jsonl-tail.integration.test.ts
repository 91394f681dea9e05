import assert from 'node:assert/strict';
import { appendFile, mkdtemp, rename, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { TailOffset } from '../store/types.ts';
import { JsonlTail, type TailReset } from './jsonl-tail.ts';
import { confineReads } from './read-file.ts';

/** An offsets table in memory: the tail's contract is just get/set by path. */
class Offsets {
  readonly saved = new Map<string, TailOffset>();
  writes = 0;
  async getOffset(path: string) {
    return this.saved.get(path) ?? null;
  }
  async setOffset(offset: TailOffset) {
    this.writes++;
    this.saved.set(offset.path, { ...offset });
  }
}

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function fixture(name: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tail-'));
  dirs.push(dir);
  return join(dir, name);
}

function follow(
  path: string,
  offsets: Offsets,
  opts: { durable?: boolean; maxLineBytes?: number; chunkBytes?: number } = {},
) {
  const seen: unknown[] = [];
  const resets: TailReset[] = [];
  const tail = new JsonlTail({
    path,
    offsets,
    onBatch: (b) => {
      seen.push(...b.values);
      return opts.durable ?? true;
    },
    onReset: (r) => {
      resets.push(r);
    },
    ...(opts.maxLineBytes ? { maxLineBytes: opts.maxLineBytes } : {}),
    ...(opts.chunkBytes ? { chunkBytes: opts.chunkBytes } : {}),
  });
  return { tail, seen, resets };
}

describe('JsonlTail', () => {
  test('consumes complete lines only; a partial line waits for its newline', async () => {
    const path = await fixture('a.jsonl');
    await writeFile(path, '{"n":1}\n{"n":2}\n{"n":');
    const offsets = new Offsets();
    const { tail, seen } = follow(path, offsets);
    const first = await tail.poll();
    assert.deepEqual(seen, [{ n: 1 }, { n: 2 }]);
    assert.equal(first.offset, 16);
    assert.equal(offsets.saved.get(path)?.offset, 16);
    await appendFile(path, '3}\n{"n":4}\n');
    const second = await tail.poll();
    assert.deepEqual(seen, [{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }]);
    assert.equal(second.lines, 2);
    assert.equal((await tail.poll()).lines, 0);
  });

  test('lines split across small read chunks are reassembled', async () => {
    const path = await fixture('chunks.jsonl');
    const lines = Array.from({ length: 50 }, (_, i) =>
      JSON.stringify({ i, pad: 'x'.repeat(i * 3) }),
    );
    await writeFile(path, `${lines.join('\n')}\n`);
    const { tail, seen } = follow(path, new Offsets(), { chunkBytes: 7 });
    await tail.poll();
    assert.equal(seen.length, 50);
    assert.deepEqual(seen[49], JSON.parse(lines[49] as string));
  });

  test('garbage and cut-short lines are skipped and counted; reading goes on', async () => {
    const path = await fixture('bad.jsonl');
    await writeFile(path, '{"n":1}\n{"n":2, "cut\nnot json\n\n{"n":3}\n');
    const { tail, seen } = follow(path, new Offsets());
    const r = await tail.poll();
    assert.deepEqual(seen, [{ n: 1 }, { n: 3 }]);
    assert.equal(r.invalid, 2);
    assert.equal(r.lines, 2);
  });

  test('oversized lines are skipped, even when they end in a later poll', async () => {
    const path = await fixture('big.jsonl');
    await writeFile(path, `{"n":1}\n{"big":"${'y'.repeat(300)}`);
    const { tail, seen } = follow(path, new Offsets(), { maxLineBytes: 100, chunkBytes: 64 });
    const first = await tail.poll();
    assert.equal(first.oversized, 1);
    await appendFile(path, `${'z'.repeat(500)}"}\n{"n":2}\n`);
    const second = await tail.poll();
    assert.equal(second.oversized, 0);
    assert.deepEqual(seen, [{ n: 1 }, { n: 2 }]);
  });

  test('a restart resumes from the saved offset without re-reading', async () => {
    const path = await fixture('resume.jsonl');
    await writeFile(path, '{"n":1}\n{"n":2}\n');
    const offsets = new Offsets();
    await follow(path, offsets).tail.poll();
    await appendFile(path, '{"n":3}\n');
    const again = follow(path, offsets);
    await again.tail.poll();
    assert.deepEqual(again.seen, [{ n: 3 }]);
    assert.deepEqual(again.resets, []);
  });

  test('truncation and rotation restart from the beginning', async () => {
    const path = await fixture('rot.jsonl');
    await writeFile(path, '{"n":1}\n{"n":2}\n');
    const offsets = new Offsets();
    const { tail, seen, resets } = follow(path, offsets);
    await tail.poll();
    await truncate(path, 0);
    await appendFile(path, '{"n":9}\n');
    const t = await tail.poll();
    assert.equal(t.reset, 'truncated');
    await writeFile(`${path}.new`, '{"n":10}\n{"n":11}\n{"n":12}\n');
    await rename(`${path}.new`, path);
    const r = await tail.poll();
    assert.equal(r.reset, 'rotated');
    assert.deepEqual(resets, ['truncated', 'rotated']);
    assert.deepEqual(seen, [{ n: 1 }, { n: 2 }, { n: 9 }, { n: 10 }, { n: 11 }, { n: 12 }]);
    // A rotation while stopped is seen from the saved inode.
    await writeFile(`${path}.new`, '{"n":20}\n');
    await rename(`${path}.new`, path);
    const restarted = follow(path, offsets);
    await restarted.tail.poll();
    assert.deepEqual(restarted.resets, ['rotated']);
    assert.deepEqual(restarted.seen, [{ n: 20 }]);
  });

  test('batches that are not durable keep the offset unsaved until persist()', async () => {
    const path = await fixture('held.jsonl');
    await writeFile(path, '{"n":1}\n');
    const offsets = new Offsets();
    const { tail } = follow(path, offsets, { durable: false });
    await tail.poll();
    assert.equal(offsets.saved.get(path), undefined);
    await appendFile(path, 'garbage\n');
    await tail.poll();
    assert.equal(
      offsets.saved.get(path),
      undefined,
      'an empty batch does not save past held lines',
    );
    await tail.persist();
    assert.equal(offsets.saved.get(path)?.offset, 16);
  });

  test('polls asked for concurrently never overlap and miss nothing', async () => {
    const path = await fixture('conc.jsonl');
    await writeFile(path, '');
    const { tail, seen } = follow(path, new Offsets());
    const polls: Promise<unknown>[] = [];
    for (let i = 0; i < 20; i++) {
      await appendFile(path, `${JSON.stringify({ i })}\n`);
      polls.push(tail.poll());
    }
    await Promise.all(polls);
    await tail.poll();
    assert.deepEqual(
      seen,
      Array.from({ length: 20 }, (_, i) => ({ i })),
    );
  });

  test('a missing file is not an error', async () => {
    const path = await fixture('missing.jsonl');
    const r = await follow(path, new Offsets()).tail.poll();
    assert.equal(r.lines, 0);
  });
});

describe('hostile files', () => {
  test('a line nested past the depth limit is skipped and counted; the next is read', async () => {
    const path = await fixture('deep.jsonl');
    await writeFile(path, `${'['.repeat(5000)}${']'.repeat(5000)}\n{"ok":1}\n`);
    const { tail, seen } = follow(path, new Offsets());
    const result = await tail.poll();
    assert.equal(result.tooDeep, 1);
    assert.equal(result.invalid, 0);
    assert.deepEqual(seen, [{ ok: 1 }]);
  });

  test('a link, or a path through a linked folder under a confined root, is never read', async () => {
    const path = await fixture('real.jsonl');
    const dir = join(path, '..');
    const outside = await mkdtemp(join(tmpdir(), 'tail-outside-'));
    dirs.push(outside);
    await writeFile(join(outside, 'secret.jsonl'), '{"secret":true}\n');
    await symlink(join(outside, 'secret.jsonl'), join(dir, 'link.jsonl'));
    const linked = follow(join(dir, 'link.jsonl'), new Offsets());
    await assert.rejects(linked.tail.poll(), /symbolic link; links are not followed/);
    assert.deepEqual(linked.seen, []);

    await symlink(outside, join(dir, 'folder'));
    const release = confineReads(dir);
    try {
      const through = follow(join(dir, 'folder', 'secret.jsonl'), new Offsets());
      await assert.rejects(through.tail.poll(), /reached through a symbolic link/);
      assert.deepEqual(through.seen, []);
    } finally {
      release();
    }
  });
});
