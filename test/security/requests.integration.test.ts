/**
 * Hostile requests against a real `livestream serve` child (issue 14, the
 * smaller items): malformed and foreign cookies, tokens in URLs, long ids,
 * `--allow-origin '*'` for HTTP as for WebSockets, and `--insecure` LAN hosts.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type ServerProcess, startServer } from '../helpers/server.ts';
import { closeSocket, handshake } from './helpers.ts';

let dir = '';
const servers: ServerProcess[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ls-req-'));
});

after(async () => {
  for (const s of servers) await s.stop('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

async function serve(args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<ServerProcess> {
  const server = await startServer(
    ['--root', dir, '--db', join(dir, `${servers.length}.db`), ...args],
    env,
  );
  servers.push(server);
  return server;
}

/** A raw request, so the Host header can be anything. */
function raw(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  const { hostname, port, pathname, search } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ hostname, port, path: pathname + search, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

const TOKEN = 'tok-requests-0123456789abcdef';

describe('token cookie and URLs', () => {
  let server: ServerProcess;
  before(async () => {
    server = await serve(['--token', TOKEN], { LIVESTREAM_LOG_LEVEL: 'debug' });
  });

  it('answers a malformed token cookie (%E0%A4%A) with 401, never a 500', async () => {
    const port = new URL(server.url).port;
    for (const name of [`livestream_token_${port}`, 'livestream_token', 'other']) {
      const response = await fetch(`${server.url}/api/health`, {
        headers: { cookie: `${name}=%E0%A4%A` },
      });
      assert.equal(response.status, 401, name);
      assert.equal(((await response.json()) as { error: string }).error, 'unauthorized');
    }
    const ok = await fetch(`${server.url}/api/health`, {
      headers: { cookie: `x=%E0%A4%A; livestream_token_${port}=${TOKEN}` },
    });
    assert.equal(ok.status, 200);
  });

  it('scopes the cookie to the port: another port’s cookie does not authenticate', async () => {
    const port = Number(new URL(server.url).port);
    const login = /\/auth\?code=[0-9a-f]+/.exec(server.output())?.[0];
    assert.ok(login, 'login link printed');
    const auth = await fetch(`${server.url}${login}`, { redirect: 'manual' });
    const setCookie = auth.headers.get('set-cookie') ?? '';
    assert.match(setCookie, new RegExp(`^livestream_token_${port}=`));
    const other = await fetch(`${server.url}/api/health`, {
      headers: { cookie: `livestream_token_${port + 1}=${TOKEN}` },
    });
    assert.equal(other.status, 401);
  });

  it('never writes a ?token= value to its log', async () => {
    const secret = 'query-secret-7f3a9c';
    for (const path of ['/api/health', '/nope', '/api/status/x', '/ws']) {
      await fetch(`${server.url}${path}?token=${secret}&a=1`).catch(() => undefined);
    }
    await fetch(`${server.url}/api/phase-update?token=${secret}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: '{"session_id":',
    });
    const ws = await handshake(`${server.url.replace('http', 'ws')}/ws?token=${secret}`);
    if (ws.open) await closeSocket(ws.ws);
    assert.ok(!server.output().includes(secret), 'the query token is in the log');
  });
});

describe('session ids of 101-200 characters', () => {
  it('are served by every /:id route as they are accepted on push', async () => {
    const server = await serve();
    const id = `s${'x'.repeat(149)}`;
    const push = await fetch(`${server.url}/api/phase-update`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ session_id: id, current_phase: 'Scout', status: 'active' }),
    });
    assert.equal(push.status, 200);
    for (const path of ['status', 'phases', 'logs'].map((r) => `/api/${r}/${id}`)) {
      const response = await fetch(`${server.url}${path}`);
      assert.equal(response.status, 200, `${path}: ${await response.clone().text()}`);
    }
    assert.equal((await fetch(`${server.url}/api/sessions/${id}/extras`)).status, 200);
    const tooLong = await fetch(`${server.url}/api/status/${'y'.repeat(3000)}`);
    assert.ok(tooLong.status >= 400 && tooLong.status < 500);
    const body = (await tooLong.json()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body).sort(), ['error', 'message']);
  });
});

describe('--allow-origin and --insecure', () => {
  it("--allow-origin '*' lets a browser origin POST (preflight and CORS headers), as WebSockets", async () => {
    const server = await serve(['--allow-origin', '*']);
    const origin = 'http://dash.example:3000';
    const preflight = await fetch(`${server.url}/api/phase-update`, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    });
    assert.ok(preflight.status === 204 || preflight.status === 200, String(preflight.status));
    assert.equal(preflight.headers.get('access-control-allow-origin'), origin);
    assert.match(preflight.headers.get('access-control-allow-methods') ?? '', /POST/);
    const post = await fetch(`${server.url}/api/phase-update`, {
      method: 'POST',
      headers: { origin, 'content-type': 'application/json' },
      body: JSON.stringify({ session_id: 'cors', current_phase: 'Scout', status: 'active' }),
    });
    assert.equal(post.status, 200);
    assert.equal(post.headers.get('access-control-allow-origin'), origin);
    const ws = await handshake(`${server.url.replace('http', 'ws')}/ws`, { origin });
    assert.equal(ws.open, true);
    if (ws.open) await closeSocket(ws.ws);
    // The opaque origin is never allowed, `*` included, on either transport.
    const opaque = await fetch(`${server.url}/api/phase-update`, {
      method: 'POST',
      headers: { origin: 'null', 'content-type': 'application/json' },
      body: JSON.stringify({ session_id: 'cors', current_phase: 'Scout' }),
    });
    assert.equal(opaque.status, 403);
    const opaqueWs = await handshake(`${server.url.replace('http', 'ws')}/ws`, { origin: 'null' });
    assert.equal(opaqueWs.open, false);
  });

  it('a listed origin matches however it is spelled, over HTTP and WebSocket alike', async () => {
    const server = await serve(['--allow-origin', 'HTTPS://Dash.Example:443']);
    for (const origin of ['https://dash.example', 'https://DASH.example:443']) {
      const post = await fetch(`${server.url}/api/phase-update`, {
        method: 'POST',
        headers: { origin, 'content-type': 'application/json' },
        body: JSON.stringify({ session_id: 'o', current_phase: 'Scout' }),
      });
      assert.equal(post.status, 200, origin);
      const ws = await handshake(`${server.url.replace('http', 'ws')}/ws`, { origin });
      assert.equal(ws.open, true, origin);
      if (ws.open) await closeSocket(ws.ws);
    }
    const foreign = await fetch(`${server.url}/api/phase-update`, {
      method: 'POST',
      headers: { origin: 'https://dash.example.evil', 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(foreign.status, 403);
    assert.equal(foreign.headers.get('access-control-allow-origin'), null);
  });

  it('--insecure accepts LAN Host headers; without it they are refused', async () => {
    const insecure = await serve(['--host', '0.0.0.0', '--insecure']);
    const port = new URL(insecure.url).port;
    const lan = await raw(`http://127.0.0.1:${port}/api/health`, { host: `192.168.1.20:${port}` });
    assert.equal(lan.status, 200, lan.body);
    const named = await raw(`http://127.0.0.1:${port}/api/health`, { host: `laptop.lan:${port}` });
    assert.equal(named.status, 200, named.body);
    const plain = await serve();
    const refused = await raw(`${plain.url}/api/health`, { host: '192.168.1.20' });
    assert.equal(refused.status, 403);
  });
});
