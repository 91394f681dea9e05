import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { runCli, waitFor } from '../helpers/server.ts';

/**
 * Issue 14.3: a first start over thousands of project folders listens
 * before it reads them, says how far it got, and ends with every session.
 * (How long it takes, against the folder count, is `npm run bench -- folder-start`.)
 */
const FOLDERS = 4000;
const temps: string[] = [];
after(async () => {
  for (const dir of temps) await rm(dir, { recursive: true, force: true });
});

interface Health {
  sessions: number;
  scan?: { state: string; foldersRead: number; foldersFound: number; text: string };
}

describe('first start over many folders', { timeout: 120_000 }, () => {
  test('listens first, shows the scan in /api/health, then has every session', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'livestream-folders-'));
    temps.push(dir);
    const root = join(dir, 'root');
    for (let i = 0; i < FOLDERS; i += 200) {
      await Promise.all(
        Array.from({ length: Math.min(200, FOLDERS - i) }, async (_, j) => {
          const id = `p${i + j}`;
          await mkdir(join(root, id, '.context-foundry'), { recursive: true });
          await writeFile(
            join(root, id, '.context-foundry', 'current-phase.json'),
            JSON.stringify({ session_id: id, current_phase: 'Builder', status: 'in_progress' }),
          );
        }),
      );
    }
    const child = runCli(
      ['serve', '--port', '0', '--root', root, '--db', join(dir, 'f.db'), '--no-agents'],
      { LIVESTREAM_LOG_LEVEL: 'info' },
    );
    t.after(() => {
      child.kill('SIGKILL');
    });
    let output = '';
    child.stdout?.on('data', (c: Buffer) => {
      output += c;
    });
    child.stderr?.on('data', (c: Buffer) => {
      output += c;
    });
    const url = await waitFor(
      () => /Livestream listening on (\S+)/.exec(output)?.[1],
      30_000,
      'listening',
    );
    // Said before the folders are read (4,000 take seconds), not with the end of the scan.
    assert.doesNotMatch(output, /\nWatching /);
    const health = async () => (await (await fetch(`${url}/api/health`)).json()) as Health;
    // Answering while it reads: the page and the API are up before the folders are.
    const early = await health();
    assert.equal(early.scan?.state, 'scanning');
    assert.match(early.scan?.text ?? '', /^scanning \d+\/\d+ folders, \d+\/\d+ files$/);
    await waitFor(() => (/\nWatching /.test(output) ? true : undefined), 90_000, 'the scan');
    const done = await health();
    assert.equal(done.sessions, FOLDERS);
    assert.equal(done.scan?.state, 'watching');
    // Root, each project and its .context-foundry folder.
    assert.equal(done.scan?.foldersFound, 1 + 2 * FOLDERS);
  });
});
