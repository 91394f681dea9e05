/**
 * The security surface of a real `livestream serve` child process on
 * 127.0.0.1: bind address and token rules, DNS rebinding and cross-site
 * WebSocket hijacking, CORS, body size and rate limits, ids that look like
 * paths, and the security headers.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { runCli, type ServerProcess, startServer } from '../helpers/server.ts';
import { closeSocket, handshake } from './helpers.ts';

let dir = '';
const servers: ServerProcess[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ls-sec-'));
});

after(async () => {
  for (const s of servers) await s.stop('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

async function serve(args: string[] = []): Promise<ServerProcess> {
  const server = await startServer([
    '--root',
    dir,
    '--db',
    join(dir, `${servers.length}.db`),
    ...args,
  ]);
  servers.push(server);
  return server;
}

/** A raw HTTP request, so the Host header can be anything (fetch forbids setting it). */
function raw(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<{
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}> {
  return new Promise((resolve, reject) => {
    // Host, port and path given apart: `new URL` would resolve `../` before sending.
    const { hostname, port } = new URL(url);
    const path = url.slice(url.indexOf('/', url.indexOf('//') + 2));
    const init = {
      hostname,
      port,
      path,
      method: options.method ?? 'GET',
      headers: options.headers,
    };
    const req = httpRequest(init, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

async function exitOf(args: string[]): Promise<{ code: number | null; output: string }> {
  const child = runCli(args);
  let output = '';
  child.stdout?.on('data', (c: Buffer) => {
    output += c;
  });
  child.stderr?.on('data', (c: Buffer) => {
    output += c;
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, output };
}

describe('bind address and token', () => {
  it('binds to 127.0.0.1 by default', async () => {
    const server = await serve();
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  });

  for (const host of ['0.0.0.0', '::', '192.0.2.10']) {
    it(`refuses --host ${host} without --token or --insecure (exit 2, clear message)`, async () => {
      const { code, output } = await exitOf([
        'serve',
        '--root',
        dir,
        '--port',
        '0',
        '--host',
        host,
      ]);
      assert.equal(code, 2);
      assert.match(output, /refusing to listen on .* without a token.*--token/);
      assert.doesNotMatch(output, /listening on/);
    });
  }

  describe('with --token', () => {
    const token = 's3cret-token-for-tests';
    let server: ServerProcess;
    let loginPath = '';

    before(async () => {
      server = await serve(['--token', token]);
      loginPath = /Open http:\/\/\S+?(\/auth\?code=[0-9a-f]+)/.exec(server.output())?.[1] ?? '';
    });

    it('prints a one-time login link', () => {
      assert.match(loginPath, /^\/auth\?code=[0-9a-f]{16,}$/);
    });

    it('requires the token on every HTTP endpoint', async () => {
      for (const path of ['/api/health', '/api/sessions', '/metrics', '/api/plans', '/', '/nope']) {
        const response = await fetch(`${server.url}${path}`);
        assert.equal(response.status, 401, path);
        const body = (await response.json()) as { error: string; message: string };
        assert.equal(body.error, 'unauthorized');
      }
      const post = await fetch(`${server.url}/api/phase-update`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ session_id: 'x', current_phase: 'Scout' }),
      });
      assert.equal(post.status, 401);
      const wrong = await fetch(`${server.url}/api/health`, {
        headers: { authorization: `Bearer ${token}x` },
      });
      assert.equal(wrong.status, 401);
      const right = await fetch(`${server.url}/api/health`, {
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(right.status, 200);
    });

    it('requires the token on WebSockets', async () => {
      const ws = server.url.replace('http', 'ws');
      for (const path of ['/ws', '/ws/some-session']) {
        const refused = await handshake(`${ws}${path}`);
        assert.equal(refused.open, false, path);
        if (!refused.open) assert.equal(refused.status, 401);
        const accepted = await handshake(`${ws}${path}`, { authorization: `Bearer ${token}` });
        assert.equal(accepted.open, true, path);
        if (accepted.open) await closeSocket(accepted.ws);
      }
    });

    it('the login link sets the cookie once, then stops working', async () => {
      const first = await fetch(`${server.url}${loginPath}`, { redirect: 'manual' });
      assert.equal(first.status, 303);
      const cookie = first.headers.get('set-cookie') ?? '';
      assert.match(cookie, /HttpOnly/);
      assert.match(cookie, /SameSite=Strict/);
      const pair = cookie.split(';')[0] as string;
      const withCookie = await fetch(`${server.url}/api/health`, { headers: { cookie: pair } });
      assert.equal(withCookie.status, 200);
      const ws = await handshake(`${server.url.replace('http', 'ws')}/ws`, { cookie: pair });
      assert.equal(ws.open, true);
      if (ws.open) await closeSocket(ws.ws);
      const second = await fetch(`${server.url}${loginPath}`, { redirect: 'manual' });
      assert.equal(second.status, 401, 'the link works once');
      assert.equal(second.headers.get('set-cookie'), null);
    });
  });
});

describe('DNS rebinding, cross-site requests and CORS', () => {
  let server: ServerProcess;
  before(async () => {
    server = await serve();
  });

  it('answers a foreign Host header with 403', async () => {
    for (const host of ['evil.example', 'evil.example:80', '127.0.0.1.evil.example', '[::2]']) {
      const response = await raw(`${server.url}/api/health`, { headers: { host } });
      assert.equal(response.status, 403, host);
      assert.equal(JSON.parse(response.body).error, 'forbidden');
    }
    const port = new URL(server.url).port;
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`]) {
      assert.equal((await raw(`${server.url}/api/health`, { headers: { host } })).status, 200);
    }
  });

  it('refuses WebSocket upgrades from a foreign Origin or Host', async () => {
    const ws = server.url.replace('http', 'ws');
    for (const path of ['/ws', '/ws/anything']) {
      const foreign: Record<string, string>[] = [
        { origin: 'http://evil.example' },
        { origin: 'null' },
        { origin: `http://127.0.0.1.evil.example` },
        { host: 'evil.example' },
      ];
      for (const headers of foreign) {
        const result = await handshake(`${ws}${path}`, headers);
        assert.equal(result.open, false, `${path} ${JSON.stringify(headers)}`);
        if (!result.open) assert.equal(result.status, 403);
      }
      const same = await handshake(`${ws}${path}`, { origin: server.url });
      assert.equal(same.open, true, 'the dashboard itself may connect');
      if (same.open) await closeSocket(same.ws);
    }
  });

  it('refuses state-changing requests from a foreign Origin', async () => {
    const response = await fetch(`${server.url}/api/phase-update`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'http://evil.example' },
      body: JSON.stringify({ session_id: 'x', current_phase: 'Scout' }),
    });
    assert.equal(response.status, 403);
  });

  it('never sends Access-Control-Allow-Origin: *', async () => {
    const paths = ['/', '/api/health', '/api/sessions', '/metrics', '/api/plans', '/api/nope'];
    for (const path of paths) {
      for (const method of ['GET', 'OPTIONS']) {
        const response = await raw(`${server.url}${path}`, {
          method,
          headers: {
            origin: 'http://evil.example',
            'access-control-request-method': 'POST',
          },
        });
        const acao = response.headers['access-control-allow-origin'];
        assert.ok(
          acao === undefined || (acao !== '*' && acao !== 'http://evil.example'),
          `${method} ${path}: ${acao}`,
        );
      }
    }
  });
});

describe('limits', () => {
  let server: ServerProcess;
  before(async () => {
    server = await serve();
  });

  it('answers 413 to a body over the limit, and stays up', async () => {
    const big = JSON.stringify({
      session_id: 'big',
      current_phase: 'x',
      pad: 'x'.repeat(2 * 1024 * 1024),
    });
    const response = await fetch(`${server.url}/api/phase-update`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: big,
    });
    assert.equal(response.status, 413);
    assert.equal(((await response.json()) as { error: string }).error, 'too_large');
    assert.equal((await fetch(`${server.url}/api/health`)).status, 200);
  });

  it('a flooding client gets 429 while GETs keep being answered', async () => {
    let flooding = true;
    const statuses = new Map<number, number>();
    let retryAfter: string | null = null;
    let refusal: unknown = null;
    const flood = async () => {
      while (flooding) {
        const response = await fetch(`${server.url}/api/phase-update`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ session_id: 'flood', current_phase: 'Scout', status: 'x' }),
        });
        const text = await response.text();
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        if (response.status === 429) {
          retryAfter ??= response.headers.get('retry-after');
          refusal ??= JSON.parse(text);
        }
      }
    };
    const flooders = Array.from({ length: 8 }, flood);
    // While the flood is being refused: 60 sequential GETs are all answered.
    // (How fast they are is a benchmark's business, not a test's.)
    while ((statuses.get(429) ?? 0) === 0) await new Promise((r) => setImmediate(r));
    for (let i = 0; i < 60; i++) {
      const response = await fetch(`${server.url}/api/sessions`);
      await response.arrayBuffer();
      assert.equal(response.status, 200);
    }
    const refusedDuringGets = statuses.get(429) ?? 0;
    flooding = false;
    await Promise.all(flooders);
    assert.ok(refusedDuringGets > 0);
    assert.ok(Number(retryAfter) >= 1, 'Retry-After tells when to come back');
    const body = refusal as { error?: string; message?: string };
    assert.deepEqual(Object.keys(body).sort(), ['error', 'message']);
    assert.equal(body.error, 'rate_limited');
    assert.match(body.message ?? '', /slow down/);
  });
});

describe('ids that look like paths', () => {
  let server: ServerProcess;
  before(async () => {
    server = await serve();
  });

  const hostileIds = [
    '../../../../etc/passwd',
    '..%2F..%2F..%2Fetc%2Fpasswd',
    '%2Fetc%2Fpasswd',
    '/etc/passwd',
    'C:\\Windows\\win.ini',
    'a%00b',
    '%00',
    '..',
    '.',
    'x'.repeat(5000),
    '%E2%80%AE',
    '%ff%fe',
  ];

  /** Every route that takes an id, as the path for that id. */
  const perIdRoutes = [
    ...['/api/status/', '/api/phases/', '/api/logs/', '/api/metrics/', '/api/plans/'].map(
      (prefix) => (id: string) => `${prefix}${id}`,
    ),
    (id: string) => `/api/sessions/${id}/extras`,
  ];

  it('answers every per-id route with a JSON 4xx, never a file or a 500', async () => {
    for (const route of perIdRoutes) {
      for (const id of hostileIds) {
        const response = await raw(`${server.url}${route(id)}`);
        assert.ok(
          response.status >= 400 && response.status < 500,
          `${route(id).slice(0, 60)} → ${response.status}`,
        );
        assert.doesNotMatch(response.body, /root:x:0:0|\[fonts\]/);
        const body = JSON.parse(response.body) as { error: string; message: string };
        assert.ok(body.error && body.message, 'a JSON error with a message');
      }
    }
  });

  it('answers arbitrary ids with a 4xx JSON error (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...perIdRoutes),
        fc.string({ unit: 'binary', maxLength: 600 }),
        async (route, id) => {
          const response = await raw(`${server.url}${route(encodeURIComponent(id))}`);
          assert.ok(
            response.status >= 400 && response.status < 500,
            `${route(JSON.stringify(id))} → ${response.status}`,
          );
          JSON.parse(response.body);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('keeps path-like session ids as data: nothing is written outside the database', async () => {
    const before = await readdir(dir, { recursive: true });
    for (const id of ['../../escape', '/tmp/abs', 'x'.repeat(199)]) {
      const response = await fetch(`${server.url}/api/phase-update`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ session_id: id, current_phase: 'Scout' }),
      });
      assert.equal(response.status, 200);
    }
    for (const id of ['a\u0000b', 'x'.repeat(201)]) {
      const response = await fetch(`${server.url}/api/phase-update`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ session_id: id, current_phase: 'Scout' }),
      });
      assert.equal(response.status, 400, 'NUL and over-long ids are refused');
    }
    const status = await fetch(`${server.url}/api/status/${encodeURIComponent('../../escape')}`);
    assert.equal(status.status, 200, 'the id round-trips as an opaque key');
    const afterFiles = (await readdir(dir, { recursive: true })).filter(
      (f) => !/\.db(-wal|-shm)?$/.test(f),
    );
    assert.deepEqual(
      afterFiles,
      before.filter((f) => !/\.db(-wal|-shm)?$/.test(f)),
    );
  });
});

describe('security headers', () => {
  let server: ServerProcess;
  before(async () => {
    server = await serve();
  });

  it('forbids inline script, sniffing and framing on the dashboard and the API', async () => {
    for (const path of ['/', '/sessions/x', '/api/health', '/api/nope']) {
      const response = await fetch(`${server.url}${path}`);
      await response.arrayBuffer();
      const csp = response.headers.get('content-security-policy') ?? '';
      const directives = new Map(
        csp.split(';').map((d) => {
          const [name, ...values] = d.trim().split(/\s+/);
          return [name, values] as const;
        }),
      );
      const script = directives.get('script-src') ?? directives.get('default-src') ?? [];
      assert.ok(script.length > 0, `${path}: CSP has a script policy`);
      assert.ok(
        !script.includes("'unsafe-inline'") && !script.includes("'unsafe-eval'"),
        `${path}: ${csp}`,
      );
      assert.ok(!script.includes('*'));
      assert.deepEqual(directives.get('frame-ancestors'), ["'none'"]);
      assert.equal(directives.get('object-src')?.[0], "'none'");
      assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(response.headers.get('x-frame-options'), 'DENY');
    }
  });
});
