import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type ServerProcess, startServer } from '../helpers/server.ts';
import { type PostgresServer, startPostgres } from '../helpers/services.ts';

let pg: PostgresServer;
let root: string;
const servers: ServerProcess[] = [];

before(async () => {
  pg = await startPostgres();
  root = await mkdtemp(join(tmpdir(), 'livestream-serve-pg-'));
});
after(async () => {
  for (const server of servers) await server.stop('SIGKILL');
  await pg.close();
  await rm(root, { recursive: true, force: true });
});

async function serve(): Promise<ServerProcess> {
  const server = await startServer(['--root', root, '--store', pg.url]);
  servers.push(server);
  return server;
}

test('serve --store postgres://…: history in PostgreSQL, kept across a restart, health names it', async () => {
  const first = await serve();
  assert.match(first.output(), /history in postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres/);
  const push = await fetch(`${first.url}/api/phase-update`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      session_id: 'pg-build',
      current_phase: 'Builder',
      phase_number: '4/7',
      status: 'in_progress',
    }),
  });
  assert.equal(push.status, 200);
  const health = (await (await fetch(`${first.url}/api/health`)).json()) as { history: string };
  assert.equal(health.history, 'saving');
  await first.stop();
  assert.equal(Number(await pg.psql("SELECT count(*) FROM sessions WHERE key = 'pg-build'")), 1);

  const second = await serve();
  const sessions = (await (await fetch(`${second.url}/api/sessions`)).json()) as {
    sessions: { id: string; currentPhase: string }[];
  };
  assert.deepEqual(
    sessions.sessions.map((s) => [s.id, s.currentPhase]),
    [['pg-build', 'Builder']],
  );
  await second.stop();
});

test('serve --store with something other than a PostgreSQL URL is a usage error', async () => {
  const bad = startServer(['--root', root, '--store', 'mysql://x']);
  await assert.rejects(bad, /--store takes a PostgreSQL URL/);
});

test('serve --bus needs --store, and a Redis URL', async () => {
  await assert.rejects(
    startServer(['--root', root, '--bus', 'redis://127.0.0.1:1']),
    /--bus needs --store postgres/,
  );
  await assert.rejects(
    startServer(['--root', root, '--store', pg.url, '--bus', 'http://x']),
    /--bus takes a Redis URL/,
  );
});
