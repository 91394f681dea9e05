import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MAX_READ_BYTES, readBounded } from './read-file.ts';

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

  it('reports a symlink loop as unreadable', async () => {
    await symlink(join(dir, 'loop-b'), join(dir, 'loop-a'));
    await symlink(join(dir, 'loop-a'), join(dir, 'loop-b'));
    const r = await readBounded(join(dir, 'loop-a'));
    assert.ok(!r.ok && r.code === 'unreadable');
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
