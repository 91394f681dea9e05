import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { confineReads, MAX_READ_BYTES, readBounded } from './read-file.ts';

describe('readBounded', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ls-read-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads a small file with its mtime and size', async () => {
    const path = join(dir, 'ok.json');
    await writeFile(path, '{"a":1}');
    const r = await readBounded(path);
    assert.ok(r.ok);
    assert.equal(r.text, '{"a":1}');
    assert.equal(r.size, 7);
    assert.ok(r.mtimeMs > 0);
  });

  it('reports empty, missing, too large and not a file', async () => {
    await writeFile(join(dir, 'empty'), '');
    const empty = await readBounded(join(dir, 'empty'));
    assert.ok(!empty.ok && empty.code === 'empty');
    const missing = await readBounded(join(dir, 'nope'));
    assert.ok(!missing.ok && missing.code === 'missing');
    const through = await readBounded(join(dir, 'empty', 'child'));
    assert.ok(!through.ok && through.code === 'missing');
    await writeFile(join(dir, 'big'), Buffer.alloc(MAX_READ_BYTES + 1, 32));
    const big = await readBounded(join(dir, 'big'));
    assert.ok(!big.ok && big.code === 'too_large');
    assert.match(big.message, /limit/);
    await writeFile(join(dir, 'exact'), Buffer.alloc(MAX_READ_BYTES, 32));
    assert.ok((await readBounded(join(dir, 'exact'))).ok);
    await mkdir(join(dir, 'adir'));
    const d = await readBounded(join(dir, 'adir'));
    assert.ok(!d.ok && d.code === 'not_a_file');
  });

  it('does not hang on a FIFO', async () => {
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const r = await readBounded(fifo);
    assert.ok(!r.ok && r.code === 'not_a_file');
  });

  it('refuses a symlink loop and a symlink to a real file alike: links are not followed', async () => {
    await symlink(join(dir, 'loop-b'), join(dir, 'loop-a'));
    await symlink(join(dir, 'loop-a'), join(dir, 'loop-b'));
    const loop = await readBounded(join(dir, 'loop-a'));
    assert.ok(!loop.ok && loop.code === 'unreadable');
    await writeFile(join(dir, 'target.json'), '{"secret":true}');
    await symlink(join(dir, 'target.json'), join(dir, 'link.json'));
    const link = await readBounded(join(dir, 'link.json'));
    assert.ok(!link.ok && link.code === 'unreadable');
    assert.match(link.message, /symbolic link/);
    assert.doesNotMatch(link.message, /secret/);
  });

  it('under a confined root, refuses a file reached through a linked folder', async () => {
    const root = join(dir, 'root');
    const outside = join(dir, 'outside');
    await mkdir(join(root, 'p'), { recursive: true });
    await mkdir(outside, { recursive: true });
    await writeFile(join(outside, 'f.json'), '{"outside":true}');
    await writeFile(join(root, 'p', 'f.json'), '{"inside":true}');
    await symlink(outside, join(root, 'linked'));
    assert.equal((await readBounded(join(root, 'linked', 'f.json'))).ok, true);
    const release = confineReads(root);
    try {
      const r = await readBounded(join(root, 'linked', 'f.json'));
      assert.ok(!r.ok && r.code === 'unreadable');
      assert.match(r.message, /symbolic link/);
      assert.equal((await readBounded(join(root, 'p', 'f.json'))).ok, true);
    } finally {
      release();
    }
    assert.equal((await readBounded(join(root, 'linked', 'f.json'))).ok, true);
  });

  it('a confined root reached through a link that is moved: later reads follow it, escapes stay refused', async () => {
    const first = join(dir, 'moved-a');
    const second = join(dir, 'moved-b');
    const outside = join(dir, 'moved-outside');
    for (const d of [first, second, outside]) await mkdir(d, { recursive: true });
    await writeFile(join(first, 'f.json'), '{"n":1}');
    await writeFile(join(second, 'f.json'), '{"n":2}');
    await writeFile(join(outside, 'f.json'), '{"outside":true}');
    await symlink(outside, join(second, 'linked'));
    const root = join(dir, 'moved-root');
    await symlink(first, root);
    const release = confineReads(root);
    try {
      const one = await readBounded(join(root, 'f.json'));
      assert.ok(one.ok && one.text === '{"n":1}');
      // The root now names another folder: its real path is resolved again, not kept.
      await rm(root);
      await symlink(second, root);
      const two = await readBounded(join(root, 'f.json'));
      assert.ok(two.ok && two.text === '{"n":2}', 'read where the root now is');
      const escaped = await readBounded(join(root, 'linked', 'f.json'));
      assert.ok(!escaped.ok && escaped.code === 'unreadable', 'a link below it is still refused');
    } finally {
      release();
    }
  });

  it('reports a file without read permission as unreadable', async (t) => {
    if (process.getuid?.() === 0) {
      t.skip(
        'running as root: permission bits do not stop root (the symlink-loop case covers "unreadable")',
      );
      return;
    }
    const path = join(dir, 'secret');
    await writeFile(path, '{}');
    await chmod(path, 0o000);
    const r = await readBounded(path);
    assert.ok(!r.ok && r.code === 'unreadable');
  });
});
