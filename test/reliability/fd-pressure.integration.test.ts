import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { type ServerProcess, startServer, waitFor } from '../helpers/server.ts';

/**
 * Issue 14.5, the watcher's part: a server out of file descriptors (EMFILE)
 * cannot list a folder created meanwhile; it must say so, keep trying, and
 * see the folder's files once descriptors are free again. The pressure is
 * real: the running server's own open-file limit is lowered (prlimit) to
 * what it holds, so every open, readdir and accept fails, then raised back.
 */
const temps: string[] = [];
after(async () => {
  for (const dir of temps) await rm(dir, { recursive: true, force: true });
});

async function writePhase(dir: string, id: string, phase: string): Promise<void> {
  await mkdir(join(dir, '.context-foundry'), { recursive: true });
  await writeFile(
    join(dir, '.context-foundry', 'current-phase.json'),
    JSON.stringify({
      session_id: id,
      current_phase: phase,
      phase_number: '2/7',
      status: 'in_progress',
      started_at: new Date().toISOString(),
    }),
  );
}

async function phaseOf(url: string, id: string): Promise<string | null> {
  const res = await fetch(`${url}/api/status/${id}`);
  if (res.status !== 200) return null;
  return ((await res.json()) as { currentPhase: string }).currentPhase;
}

/** The soft limit of open files of a running process. */
function softFileLimit(pid: number): number {
  const out = execFileSync('prlimit', [
    '--pid',
    String(pid),
    '--nofile',
    '--output=SOFT',
    '--noheadings',
  ]);
  return Number(String(out).trim());
}

/** Sets the soft limit of open files of a running process (the hard limit stays). */
function setSoftFileLimit(pid: number, soft: number): void {
  execFileSync('prlimit', ['--pid', String(pid), `--nofile=${soft}:`]);
}

describe('out of file descriptors', { timeout: 60_000 }, () => {
  let server: ServerProcess | null = null;
  after(async () => {
    await server?.stop();
  });

  test('folders created meanwhile are read once descriptors are free again', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'livestream-fd-'));
    temps.push(dir);
    const root = join(dir, 'root');
    await writePhase(join(root, 'p0'), 'p0', 'Scout');
    server = await startServer(['--root', root, '--db', join(dir, 'fd.db'), '--no-agents'], {
      // The recovery is an info line.
      LIVESTREAM_LOG_LEVEL: 'info',
    });
    const { url, child } = server;
    const pid = child.pid as number;
    assert.equal(await phaseOf(url, 'p0'), 'Scout');

    // Nothing more may be opened: the limit is below what the server holds now, so a
    // descriptor it closes meanwhile (a finished HTTP connection) frees no room either.
    const limit = softFileLimit(pid);
    const held = (await readdir(`/proc/${pid}/fd`)).length;
    setSoftFileLimit(pid, held - 8);
    try {
      for (const id of ['late1', 'late2', 'late3']) await writePhase(join(root, id), id, 'Builder');
      // A folder watched already: its file is seen changing, but cannot be opened.
      await writePhase(join(root, 'p0'), 'p0', 'Architect');
      await waitFor(
        () =>
          /too many open files: could not read/.test(server?.output() ?? '') ? true : undefined,
        15_000,
        'the watcher to say what it could not read',
      );
      await waitFor(
        () =>
          /cannot open \S*p0\S*: too many open files/.test(server?.output() ?? '')
            ? true
            : undefined,
        15_000,
        'the phase file that could not be opened to be reported',
      );
    } finally {
      setSoftFileLimit(pid, limit);
    }
    const log = server.output();
    assert.match(log, /EMFILE/);
    assert.match(log, /late[123]/, 'the log names what it could not read');

    await waitFor(
      async () => {
        const phases = await Promise.all(['late1', 'late2', 'late3'].map((id) => phaseOf(url, id)));
        return phases.every((p) => p === 'Builder') ? true : undefined;
      },
      20_000,
      'the folders created under pressure to be read once it ended',
    );
    // Read again without another write, and its warning gone with the good read.
    await waitFor(
      async () => ((await phaseOf(url, 'p0')) === 'Architect' ? true : undefined),
      20_000,
      'the file that could not be opened to be read again',
    );
    const p0 = (await (await fetch(`${url}/api/status/p0`)).json()) as { warnings: unknown[] };
    assert.deepEqual(p0.warnings, []);
    await waitFor(
      () => (/file descriptors available again/.test(server?.output() ?? '') ? true : undefined),
      10_000,
      'the recovery to be logged',
    );
    // And the watches placed late follow changes from then on.
    await writePhase(join(root, 'late2'), 'late2', 'Test');
    await waitFor(
      async () => ((await phaseOf(url, 'late2')) === 'Test' ? true : undefined),
      10_000,
      'a change in a folder read late',
    );
  });
});
