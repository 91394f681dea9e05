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

describe('deep JSONL lines, decision files and parallel.json in a root', () => {
  let server: ServerProcess;
  let lines = '';
  before(async () => {
    lines = join(dir, 'lines');
    const project = join(lines, 'lines-project');
    await mkdir(join(project, '.context-foundry', 'patterns'), { recursive: true });
    await writeFile(
      join(project, '.context-foundry', 'current-phase.json'),
      '{"session_id":"lines-project","current_phase":"Builder","status":"active"}',
    );
    await writeFile(join(project, '.context-foundry', 'patterns', 'common-issues.json'), deep);
    await mkdir(join(project, 'logs', 'events', 'lines-project'), { recursive: true });
    await writeFile(
      join(project, 'logs', 'events', 'lines-project', 'events.jsonl'),
      `${deep}\n{"type":"progress","sequence":1,"data":{"message":"the line after the deep one"}}\n`,
    );
    const plan = join(lines, 'lines-project', 'work-space', 'plans', 'deep-plan');
    await mkdir(plan, { recursive: true });
    await writeFile(
      join(plan, 'PLAN_DEEP-PLAN.md'),
      '# PLAN: deep\n\n## 📋 Achievement Index\n\n- Achievement 1.1: One\n',
    );
    await writeFile(join(plan, 'parallel.json'), `{"achievements":${deep}}`);
    server = await startServer(['--root', lines, '--db', join(dir, 'lines.db')]);
    servers.push(server);
  });

  it('skips a deep events.jsonl line with a warning and reads the next one', async () => {
    const logs = await waitFor(
      async () => {
        const response = await fetch(`${server.url}/api/logs/lines-project?lines=100`);
        if (response.status !== 200) return undefined;
        const body = (await response.json()) as { lines: { text: string }[] };
        return body.lines.some((l) => l.text.includes('the line after the deep one'))
          ? body.lines
          : undefined;
      },
      10_000,
      'the line after the deep one',
    );
    assert.ok(logs.length > 0);
    await waitFor(
      () =>
        /events\.jsonl: skipped 1 line\(s\) nested more than 64 levels deep/.test(server.output())
          ? true
          : undefined,
      5000,
      'a warning for the deep line',
    );
  });

  it('refuses a deep decision file and a deep parallel.json with the limit named', async () => {
    await waitFor(
      () =>
        /common-issues\.json nests objects or arrays more than 64 levels deep/.test(server.output())
          ? true
          : undefined,
      10_000,
      'a warning for the decision file',
    );
    const plan = await waitFor(
      async () => {
        const list = (await (await fetch(`${server.url}/api/plans`)).json()) as {
          plans: { id: string; warnings?: string[] }[];
        };
        return list.plans.find((p) => p.id.includes('deep-plan'));
      },
      10_000,
      'the plan',
    );
    const detail = (await (
      await fetch(`${server.url}/api/plans/${encodeURIComponent(plan.id)}`)
    ).json()) as { warnings: string[] };
    assert.ok(
      detail.warnings.some((w) => /parallel\.json nests .* more than 64 levels deep/.test(w)),
      detail.warnings.join('\n'),
    );
    assert.equal((await fetch(`${server.url}/api/status/lines-project`)).status, 200);
  });
});
