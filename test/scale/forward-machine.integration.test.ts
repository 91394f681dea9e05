import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { safeHostName } from '../../src/shared/forward.ts';
import type { SessionStatus } from '../../src/shared/model.ts';
import { runCli, type ServerProcess, startServer, waitFor } from '../helpers/server.ts';
import { hasTmux, killSession, startDashboard, tmux, waitForScreen } from '../tui/helpers.ts';

/**
 * The machine as a field, end to end: a real `serve` child and real
 * `livestream forward` children, each machine building a `weather-app`.
 */
const dirs: string[] = [];
const children: ChildProcess[] = [];
const servers: ServerProcess[] = [];
after(async () => {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  }
  killSession(TUI);
  for (const server of servers) await server.stop();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

const TUI = `ls-machines-${process.pid}`;
const TOKENS = { 'ci-1': 'ci-1-secret-token-0123456789', 'ci-2': 'ci-2-secret-token-0123456789' };

async function project(root: string, detail: string): Promise<void> {
  const dir = join(root, 'weather-app', '.context-foundry');
  await mkdir(dir, { recursive: true });
  await writeFile(
    join(dir, 'current-phase.json'),
    JSON.stringify({
      session_id: 'weather-app',
      current_phase: 'Builder',
      phase_number: '4/7',
      status: 'in_progress',
      progress_detail: detail,
    }),
  );
}

/** `livestream forward` over a fresh build folder; `claims` is the --host it says it is. */
async function forwarder(dir: string, url: string, token: string, claims: string) {
  const root = join(dir, `machine-${claims}`);
  await project(root, `built on ${claims}`);
  const child = runCli([
    'forward',
    '--to',
    url,
    '--token',
    token,
    '--host',
    claims,
    '--root',
    root,
    '--outbox',
    join(dir, `outbox-${claims}.db`),
  ]);
  children.push(child);
}

async function sessions(url: string): Promise<SessionStatus[]> {
  const body = (await (await fetch(`${url}/api/sessions`)).json()) as { sessions: SessionStatus[] };
  return body.sessions.filter((s) => s.sessionId.startsWith('weather-app'));
}

const byHost = (list: SessionStatus[]) =>
  Object.fromEntries(list.map((s) => [s.host ?? '(none)', s.id]));

test('every session names its machine: forwarded ones by their token, local ones by the server', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'livestream-machine-'));
  dirs.push(dir);
  const own = join(dir, 'central');
  await project(own, 'built on the server');
  const tokens = join(dir, 'forwarder-tokens');
  await writeFile(tokens, `ci-1 ${TOKENS['ci-1']}\nci-2 ${TOKENS['ci-2']}\n`);
  const args = ['--root', own, '--db', join(dir, 'h.db'), '--no-agents', '--forwarder-tokens'];
  let central = await startServer([...args, tokens]);
  servers.push(central);
  await forwarder(dir, central.url, TOKENS['ci-1'], 'ci-1');
  // It says it is someone else: the token decides which machine it is.
  await forwarder(dir, central.url, TOKENS['ci-2'], 'impostor');

  const local = safeHostName(hostname());
  const expected = {
    [local]: 'weather-app',
    'ci-1': 'weather-app@ci-1',
    'ci-2': 'weather-app@ci-2',
  };
  const seen = await waitFor(
    async () => {
      const list = await sessions(central.url);
      return list.length === 3 ? list : undefined;
    },
    20_000,
    'three weather-app sessions',
  );
  assert.deepEqual(byHost(seen), expected, 'one project name, three machines, three sessions');
  assert.equal(
    seen.find((s) => s.host === 'ci-2')?.progressDetail,
    'built on impostor',
    'the token’s machine, with what that machine wrote',
  );

  // `status`: the table has the column, --json the field.
  const status = async (json: boolean) => {
    const child = runCli(['status', '--url', central.url, ...(json ? ['--json'] : [])]);
    let out = '';
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
    });
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 0, out);
    return out;
  };
  const table = (await status(false)).split('\n');
  assert.match(table[0] ?? '', /^SESSION\s+MACHINE\s+STATE/);
  for (const [host, id] of Object.entries(expected)) {
    assert.ok(
      table.some((line) => new RegExp(`^${id}\\s+${host}\\s`).test(line)),
      `${id} on ${host} in:\n${table.join('\n')}`,
    );
  }
  const json = JSON.parse(await status(true)) as { sessions: SessionStatus[] };
  assert.deepEqual(
    byHost(json.sessions.filter((s) => s.sessionId.startsWith('weather-app'))),
    expected,
  );

  // The TUI's Builds screen: a Machine column, since the sessions span machines.
  if (hasTmux) {
    startDashboard(TUI, ['--connect', central.url]);
    await waitForScreen(TUI, (screen) => screen.includes('Tab builds'), 'the dashboard');
    tmux('send-keys', '-t', TUI, 'Tab');
    const { screen } = await waitForScreen(
      TUI,
      (text) => text.includes('connected') && text.includes('weather-app@ci-2'),
      'the Builds screen',
    );
    assert.match(screen, /Session\s+Machine\s+Phase\s+Step/);
    for (const [host, id] of Object.entries(expected)) {
      assert.match(screen, new RegExp(`${id}\\s+${host}\\s+Builder\\s+4/7`), screen);
    }
    killSession(TUI);
  }

  // After a restart the machines come back from history.
  await central.stop();
  central = await startServer([...args, tokens]);
  servers.push(central);
  assert.deepEqual(byHost(await sessions(central.url)), expected, 'restored with their machines');
});
