import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type ServerProcess, startServer } from './helpers/server.ts';

// What a new user runs, from a folder of their own, through the launcher users
// get from a global install: each mistake is one line that says what to do next.
const BIN = join(import.meta.dirname, '..', 'bin', 'livestream.mjs');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

async function run(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd,
    env: {
      ...process.env,
      HOME: cwd,
      CLAUDE_CONFIG_DIR: join(cwd, '.no-claude'),
      LIVESTREAM_LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    // A flag that should have been refused starts a server: fail, do not hang.
    timeout: 20_000,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => {
    stdout += c;
  });
  child.stderr.on('data', (c: Buffer) => {
    stderr += c;
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

describe('livestream as a new user runs it', () => {
  let dir: string;
  let server: ServerProcess;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ls-newcomer-'));
    await mkdir(join(dir, 'app', '.context-foundry'), { recursive: true });
    await writeFile(
      join(dir, 'app', '.context-foundry', 'current-phase.json'),
      JSON.stringify({ current_phase: 'Scout', phase_number: '1/8', status: 'in_progress' }),
    );
    server = await startServer(['--root', dir, '--db', join(dir, 'h.db'), '--token', 's3cret']);
  });

  after(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('--version prints the package version', async () => {
    const r = await run(dir, ['--version']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^\d+\.\d+\.\d+\n$/);
  });

  test('serve without Claude Code or Codex says so instead of an empty folder list', () => {
    assert.match(server.output(), /No Claude Code or Codex folder found/);
    assert.doesNotMatch(server.output(), /Following coding agents in {2}/);
  });

  test("a wildcard bind prints a login link with this machine's name, one a browser elsewhere can open", async () => {
    const wide = await startServer([
      '--host',
      '0.0.0.0',
      '--token',
      's3cret',
      '--root',
      dir,
      '--db',
      join(dir, 'w.db'),
      '--no-agents',
    ]);
    try {
      const port = new URL(wide.url).port;
      assert.match(
        wide.output(),
        new RegExp(`Open http://${hostname()}:${port}/auth\\?code=[0-9a-f]+ once`),
      );
      assert.doesNotMatch(wide.output(), /Open http:\/\/0\.0\.0\.0/);
    } finally {
      await wide.stop();
    }
  });

  test('status piped into a reader that stops early exits 0 without a stack trace', async () => {
    const child = spawn(
      'bash',
      ['-c', 'set -o pipefail; "$0" "$@" | true', process.execPath, BIN, 'status', '--json'],
      {
        cwd: dir,
        env: { ...process.env, HOME: dir, LIVESTREAM_PORT: '9' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => {
      stderr += c;
    });
    const [code] = (await once(child, 'exit')) as [number];
    assert.equal(code, 0, stderr);
    assert.doesNotMatch(stderr, /EPIPE|at /);
  });

  test('status that falls back to the folder says no server answered', async () => {
    const r = await run(dir, ['status'], { LIVESTREAM_PORT: '9' });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^SESSION/m);
    assert.match(r.stderr, /no server at http:\/\/127\.0\.0\.1:9; sessions read from /);
  });

  test('push: a file that is not JSON, and a server that needs a token, say what to fix', async () => {
    const bad = join(dir, 'bad.json');
    await writeFile(bad, '{"current_phase": "Scout",');
    const notJson = await run(dir, ['push', bad, '--url', server.url, '--strict']);
    assert.equal(notJson.code, 2);
    assert.match(notJson.stderr, /bad\.json is not valid JSON/);
    const soft = await run(dir, ['push', bad, '--url', server.url]);
    assert.equal(soft.code, 0);
    const file = join(dir, 'app', '.context-foundry', 'current-phase.json');
    const noToken = await run(dir, ['push', file, '--url', server.url, '--strict']);
    assert.equal(noToken.code, 1);
    assert.match(noToken.stderr, /refused: the server needs a token: pass --token/);
    const ok = await run(dir, ['push', file, '--url', server.url, '--token', 's3cret']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /session app/);
  });

  test('bad flag values are refused before anything runs', async () => {
    const format = await run(dir, ['serve', '--port', '0', '--log-format', 'xml']);
    assert.equal(format.code, 2);
    assert.match(format.stderr, /invalid --log-format 'xml': use pretty or json/);
    const forwardFormat = await run(dir, [
      'forward',
      '--to',
      'http://127.0.0.1:9',
      '--log-format',
      'xml',
    ]);
    assert.equal(forwardFormat.code, 2);
    assert.match(forwardFormat.stderr, /invalid --log-format 'xml': use pretty or json/);
    const url = await run(dir, ['status', '--url', 'localhost:8080']);
    assert.equal(url.code, 2);
    assert.match(url.stderr, /invalid --url 'localhost:8080': .*http:\/\/127\.0\.0\.1:8080/);
    const poll = await run(dir, ['plans', '--poll', 'abc', '--json']);
    assert.equal(poll.code, 2);
    assert.match(poll.stderr, /invalid --poll 'abc'/);
  });

  test('hooks: a bad --url, a missing project and --user with --local write nothing', async () => {
    const badUrl = await run(dir, ['hooks', 'install', '--url', 'notaurl']);
    assert.equal(badUrl.code, 2);
    assert.match(badUrl.stderr, /invalid --url 'notaurl'/);
    const missing = join(dir, 'no-such-project');
    const noProject = await run(dir, ['hooks', 'install', '--project', missing]);
    assert.equal(noProject.code, 2);
    assert.match(noProject.stderr, /project folder '.*no-such-project' does not exist/);
    assert.equal(existsSync(missing), false);
    const both = await run(dir, ['hooks', 'install', '--user', '--local', '--dry-run']);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /--user has one settings file: drop --local/);
    assert.equal(existsSync(join(dir, '.claude')), false);
    const nothing = await run(dir, ['hooks', 'uninstall']);
    assert.equal(nothing.code, 0, nothing.stderr);
    assert.match(nothing.stdout, /nothing to remove/);
  });

  test('demo --scenario says its builds played the scenario out, not that they completed', async () => {
    const r = await run(dir, ['demo', '--scenario', 'stuck', '--once', '--rate', '2000']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout.trim().split('\n').at(-1) as string,
      /^demo: \d+ updates, 1 of 1 builds played the 'stuck' scenario out in /,
    );
  });
});
