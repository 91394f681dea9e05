/**
 * Issue 14.4 against a real `livestream serve` child: a watched file swapped
 * for a symbolic link right after an invalid write (the re-read) is never
 * followed, so nothing outside the root is read, ingested or quoted.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CONFIRM_MS } from '../../src/sources/burst-reader.ts';
import { type ServerProcess, startServer, waitFor } from '../helpers/server.ts';

let dir = '';
let root = '';
let server: ServerProcess;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ls-link-'));
  root = join(dir, 'root');
  await mkdir(join(dir, 'outside'), { recursive: true });
  await writeFile(
    join(dir, 'outside', 'phase.json'),
    '{"session_id":"outside-file","current_phase":"Stolen","status":"active"}',
  );
  for (const project of ['p', 'q']) {
    await mkdir(join(root, project, '.context-foundry'), { recursive: true });
    await writeFile(phaseFile(project), phase(project));
  }
  server = await startServer(['--root', root, '--db', join(dir, 'ls.db')]);
  await waitFor(async () => ((await ids()).includes('q') ? true : undefined), 10_000, 'sessions');
});

after(async () => {
  await server?.stop('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

function phaseFile(project: string): string {
  return join(root, project, '.context-foundry', 'current-phase.json');
}

function phase(id: string): string {
  return JSON.stringify({ session_id: id, current_phase: 'Builder', status: 'active' });
}

async function ids(): Promise<string[]> {
  const body = (await (await fetch(`${server.url}/api/sessions`)).json()) as
    | { sessions: { id: string }[] }
    | { id: string }[];
  return (Array.isArray(body) ? body : body.sessions).map((s) => s.id);
}

let sentinels = 0;

/**
 * Writes invalid JSON, then at once replaces the file with a link to
 * `target` (inside the quick re-read window), then waits until a project
 * created afterwards is a session and the bad read's confirmation time has
 * passed: by then every read the swap caused has been done.
 */
async function swapForLink(project: string, target: string): Promise<void> {
  await writeFile(phaseFile(project), '{"session_id":');
  await rm(phaseFile(project));
  await symlink(target, phaseFile(project));
  const sentinel = `sentinel-${++sentinels}`;
  const started = Date.now();
  await mkdir(join(root, sentinel, '.context-foundry'), { recursive: true });
  await writeFile(phaseFile(sentinel), phase(sentinel));
  await waitFor(
    async () =>
      (await ids()).includes(sentinel) && Date.now() - started > 2 * CONFIRM_MS ? true : undefined,
    10_000,
    'the sentinel project',
  );
}

describe('re-reads of a file swapped for a symlink', () => {
  it('do not ingest a JSON file outside the root', async () => {
    await swapForLink('p', join(dir, 'outside', 'phase.json'));
    assert.ok(!(await ids()).includes('outside-file'), 'a file outside the root became a session');
  });

  it('never read or quote /etc/passwd', async () => {
    await swapForLink('q', '/etc/passwd');
    assert.doesNotMatch(server.output(), /root:x:0:0/);
    for (const path of ['/api/sessions', '/api/status/q', '/api/logs/q']) {
      const text = await (await fetch(`${server.url}${path}`)).text();
      assert.doesNotMatch(text, /root:x:0:0/, path);
    }
  });

  it('pick the file up again once a real file replaces the link', async () => {
    await rm(phaseFile('p'));
    await writeFile(
      phaseFile('p'),
      JSON.stringify({ session_id: 'p', current_phase: 'Test', status: 'active' }),
    );
    await waitFor(
      async () => {
        const response = await fetch(`${server.url}/api/status/p`);
        const text = await response.text();
        return response.status === 200 && text.includes('"Test"') ? true : undefined;
      },
      10_000,
      'the recovered session',
    );
  });
});
