import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

// The launcher users run (package.json "bin") over the compiled dist/cli.js.
const REPO = join(import.meta.dirname, '..');
const BIN = join(REPO, 'bin', 'livestream.mjs');
const dir = mkdtempSync(join(tmpdir(), 'ls-bin-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('short commands run from any folder, outside the checkout and its tsconfig', () => {
  const help = spawnSync(process.execPath, [BIN, '--help'], { cwd: dir, encoding: 'utf8' });
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /Usage: livestream/);
  const status = spawnSync(process.execPath, [BIN, 'status', '--json', '--root', dir], {
    cwd: dir,
    encoding: 'utf8',
  });
  assert.equal(status.status, 0, status.stderr);
  assert.equal(JSON.parse(status.stdout).count, 0);
});

test('serve re-executes with the runtime flags, and dies with a launcher killed outright', async () => {
  const child = spawn(
    process.execPath,
    [BIN, 'serve', '--port', '0', '--root', dir, '--db', join(dir, 'ls.db')],
    {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LIVESTREAM_LOG_LEVEL: 'warn' },
    },
  );
  let out = '';
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', () => {
      if (out.includes('Livestream listening on')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
  });
  const ps = spawnSync('ps', ['-o', 'pid=,args=', '--ppid', String(child.pid)], {
    encoding: 'utf8',
  });
  const server = ps.stdout.trim();
  assert.match(server, /--max-semi-space-size=8 .*dist\/cli\.js serve/);
  const pid = Number(server.split(/\s+/)[0]);
  child.kill('SIGKILL');
  // The server notices the closed channel and kills itself: poll until it is gone.
  for (let alive = true; alive; ) {
    await new Promise((r) => setTimeout(r, 20));
    try {
      process.kill(pid, 0);
    } catch {
      alive = false;
    }
  }
});
