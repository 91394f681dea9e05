/**
 * Folders changing under a running server: the root deleted and recreated,
 * a project folder renamed, and the inotify watch limit reached (in a user
 * namespace with its own, lowered limit, so nothing else on the machine is
 * affected). Each gives a clear warning and recovers without a restart.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type ServerProcess, startServer, waitFor } from '../helpers/server.ts';

const CLI = join(import.meta.dirname, '..', '..', 'dist', 'cli.js');

async function writePhase(project: string, sessionId: string, phase: string): Promise<void> {
  await mkdir(join(project, '.context-foundry'), { recursive: true });
  await writeFile(
    join(project, '.context-foundry', 'current-phase.json'),
    JSON.stringify({ session_id: sessionId, current_phase: phase, status: 'building' }),
  );
}

async function phaseOf(url: string, id: string): Promise<string | undefined> {
  const response = await fetch(`${url}/api/status/${encodeURIComponent(id)}`);
  if (response.status !== 200) {
    await response.arrayBuffer();
    return undefined;
  }
  return ((await response.json()) as { currentPhase: string }).currentPhase;
}

describe('watched folders changing under the server', () => {
  let dir = '';
  let root = '';
  let server: ServerProcess;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ls-watch-'));
    root = join(dir, 'root');
    await writePhase(join(root, 'alpha'), 'alpha', 'Scout');
    server = await startServer(['--root', root, '--db', join(dir, 'h.db')]);
  });

  after(async () => {
    await server?.stop('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it('follows a renamed project folder', async () => {
    await waitFor(async () =>
      (await phaseOf(server.url, 'alpha')) === 'Scout' ? true : undefined,
    );
    await rename(join(root, 'alpha'), join(root, 'alpha-renamed'));
    await writePhase(join(root, 'alpha-renamed'), 'alpha', 'Architect');
    await waitFor(
      async () => {
        const sessions = (await (await fetch(`${server.url}/api/sessions`)).json()) as {
          sessions: { sessionId: string; currentPhase: string; projectDir: string | null }[];
        };
        return sessions.sessions.find(
          (s) =>
            s.sessionId === 'alpha' &&
            s.currentPhase === 'Architect' &&
            s.projectDir?.endsWith('alpha-renamed'),
        );
      },
      10_000,
      'the renamed folder to be followed',
    );
  });

  it('warns when the root is deleted and picks it up again when recreated', async () => {
    await rm(root, { recursive: true, force: true });
    await waitFor(
      () => (/watched root vanished/.test(server.output()) ? true : undefined),
      10_000,
      'a warning about the vanished root',
    );
    assert.equal((await fetch(`${server.url}/api/health`)).status, 200, 'still serving');
    await writePhase(join(root, 'beta'), 'beta', 'Builder');
    await waitFor(
      async () => ((await phaseOf(server.url, 'beta')) === 'Builder' ? true : undefined),
      15_000,
      'the recreated root to be watched again',
    );
    await writePhase(join(root, 'beta'), 'beta', 'Test');
    await waitFor(
      async () => ((await phaseOf(server.url, 'beta')) === 'Test' ? true : undefined),
      10_000,
    );
  });
});

function userNamespaces(): boolean {
  try {
    execFileSync('unshare', ['--user', '--map-root-user', 'true'], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

describe('inotify watch limit reached', () => {
  let dir = '';
  let child: ReturnType<typeof spawn> | null = null;

  after(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('says so clearly, keeps serving, and recovers once the limit is raised', async (t) => {
    if (!userNamespaces()) {
      t.skip('user namespaces are not available: the limit cannot be lowered for the server alone');
      return;
    }
    dir = await mkdtemp(join(tmpdir(), 'ls-inotify-'));
    const root = join(dir, 'root');
    for (let i = 0; i < 30; i++) await writePhase(join(root, `p${i}`), `p${i}`, 'Scout');
    // The server runs in its own user namespace whose inotify limit is 20 watches.
    child = spawn(
      'unshare',
      [
        '--user',
        '--map-root-user',
        'sh',
        '-c',
        'echo 20 > /proc/sys/user/max_inotify_watches && exec "$0" "$@"',
        process.execPath,
        CLI,
        'serve',
        '--root',
        root,
        '--db',
        join(dir, 'h.db'),
        '--port',
        '0',
        // Only the root's watcher: the machine's own Claude Code history would hit the limit too.
        '--no-agents',
      ],
      {
        // Not the machine's own Claude Code or Codex history: its watches would share the limit.
        env: {
          ...process.env,
          LIVESTREAM_LOG_LEVEL: 'warn',
          CLAUDE_CONFIG_DIR: join(dir, 'no-claude'),
          CODEX_HOME: join(dir, 'no-codex'),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout?.on('data', (c: Buffer) => {
      output += c;
    });
    child.stderr?.on('data', (c: Buffer) => {
      output += c;
    });
    const url = await waitFor(
      () => /Livestream listening on (\S+)/.exec(output)?.[1],
      20_000,
      'listening',
    );
    await waitFor(
      () => (/inotify watch limit reached/.test(output) ? true : undefined),
      10_000,
      'the warning',
    );
    assert.match(output, /max_user_watches|--poll/, 'the warning says what to do');
    assert.equal(
      output.split('inotify watch limit reached').length - 1,
      1,
      'one line, not one per folder',
    );
    assert.equal((await fetch(`${url}/api/health`)).status, 200);

    // Raise the limit inside the server's namespace, then change a folder that had no watch.
    execFileSync('nsenter', [
      '--user',
      '--target',
      String(child.pid),
      'sh',
      '-c',
      'echo 100000 > /proc/sys/user/max_inotify_watches',
    ]);
    await writePhase(join(root, 'p29'), 'p29', 'Deploy');
    await writePhase(join(root, 'late'), 'late', 'Builder');
    await waitFor(
      async () =>
        (await phaseOf(url, 'p29')) === 'Deploy' && (await phaseOf(url, 'late')) === 'Builder'
          ? true
          : undefined,
      20_000,
      'changes in unwatched folders to be seen after the limit was raised',
    );
  });
});
