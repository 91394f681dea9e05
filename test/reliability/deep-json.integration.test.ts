/**
 * Issue 14.1 against a real `livestream serve` child: a document nested about
 * 4,500 levels (~9 KB) is refused at every boundary (HTTP bodies, files in a
 * root) with a clear message; every other session keeps working, and such a
 * file in a root does not break a restart.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type ServerProcess, startServer, waitFor } from '../helpers/server.ts';

const DEPTH = 4500;
/** `[[[…]]]` nested `DEPTH` levels: about 9 KB. */
const deep = `${'['.repeat(DEPTH)}${']'.repeat(DEPTH)}`;

let dir = '';
let root = '';
const servers: ServerProcess[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ls-deep-'));
  root = join(dir, 'root');
  for (const [project, extra] of [
    ['deep-project', deep],
    ['good-project', '"fine"'],
  ] as const) {
    await mkdir(join(root, project, '.context-foundry'), { recursive: true });
    await writeFile(
      join(root, project, '.context-foundry', 'current-phase.json'),
      `{"session_id":"${project}","current_phase":"Builder","status":"active","extra":${extra}}`,
    );
  }
});

after(async () => {
  for (const s of servers) await s.stop('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

async function serve(): Promise<ServerProcess> {
  const server = await startServer(['--root', root, '--db', join(dir, 'ls.db')]);
  servers.push(server);
  return server;
}

async function sessionIds(server: ServerProcess): Promise<string[]> {
  const response = await fetch(`${server.url}/api/sessions`);
  assert.equal(response.status, 200);
  const body = (await response.json()) as { sessions: { id: string }[] } | { id: string }[];
  const list = Array.isArray(body) ? body : body.sessions;
  return list.map((s) => s.id);
}

function post(server: ServerProcess, path: string, body: string): Promise<Response> {
  return fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
}

describe('a document nested 4,500 levels deep', () => {
  let server: ServerProcess;
  before(async () => {
    assert.ok(deep.length < 12_000);
    server = await serve();
    await waitFor(
      async () => ((await sessionIds(server)).includes('good-project') ? true : undefined),
      10_000,
      'the good project',
    );
  });

  it('is refused as a file in a root, and the other sessions are served', async () => {
    const ids = await sessionIds(server);
    assert.ok(!ids.includes('deep-project'), 'the deep document became a session');
    assert.ok(ids.includes('good-project'));
    await waitFor(
      () =>
        /deep-project\S*current-phase\.json: .*more than 64 levels deep/.test(server.output())
          ? true
          : undefined,
      5000,
      'a warning naming the file and the limit',
    );
  });

  for (const path of ['/api/phase-update', '/api/broadcast', '/api/agent-update']) {
    it(`is refused on ${path} with a 400 that says why`, async () => {
      const response = await post(
        server,
        path,
        `{"session_id":"pushed","current_phase":"Scout","status":"active","extra":${deep}}`,
      );
      assert.equal(response.status, 400);
      const body = (await response.json()) as Record<string, string>;
      assert.deepEqual(Object.keys(body).sort(), ['error', 'message']);
      assert.match(body.message ?? '', /levels deep/);
    });
  }

  it('leaves pushes and reads of every other session working', async () => {
    const ok = await post(
      server,
      '/api/phase-update',
      JSON.stringify({ session_id: 'after', current_phase: 'Scout', status: 'active' }),
    );
    assert.equal(ok.status, 200);
    const ids = await sessionIds(server);
    assert.ok(ids.includes('after') && ids.includes('good-project'));
    assert.equal((await fetch(`${server.url}/api/status/good-project`)).status, 200);
  });

  it('still in the root, does not break a restart', async () => {
    await server.stop();
    const again = await serve();
    await waitFor(
      async () => ((await sessionIds(again)).includes('good-project') ? true : undefined),
      10_000,
      'the good project after restart',
    );
    const ids = await sessionIds(again);
    assert.ok(ids.includes('after'));
    assert.ok(!ids.includes('deep-project'));
  });
});
