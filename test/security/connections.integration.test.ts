/**
 * Issue 14.5 against a real `livestream serve` child, with raw TCP sockets:
 * connections that send nothing (or trickle their headers) are closed after
 * the idle timeout; connections over the per-address or total cap are told
 * why (HTTP 429 / 503 with a JSON message, a WebSocket closed with 1013 and a
 * reason) instead of taking file descriptors until the process can open
 * nothing; and a flood of idle connections leaves the server's descriptor
 * count bounded and the server serving once they time out.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { type ServerProcess, startServer, waitFor } from '../helpers/server.ts';

let dir = '';
const servers: ServerProcess[] = [];
const sockets: Socket[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ls-conns-'));
});
after(async () => {
  for (const s of sockets) s.destroy();
  for (const s of servers) await s.stop('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

async function serve(args: string[]): Promise<ServerProcess & { port: number }> {
  const server = await startServer(['--root', dir, '--db', ':memory:', ...args]);
  servers.push(server);
  return { ...server, port: Number(new URL(server.url).port) };
}

/** A raw TCP connection from `from` (any 127.0.0.0/8 address is this machine). */
async function open(port: number, from = '127.0.0.1'): Promise<Socket> {
  const socket = connect({ host: '127.0.0.1', port, localAddress: from });
  sockets.push(socket);
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  return socket;
}

/**
 * Sends a GET on a raw socket; resolves with the status and the body once the
 * server closes it (status 0: the connection was dropped without an answer).
 */
async function rawGet(
  port: number,
  from: string,
  path = '/api/health',
): Promise<{ status: number; headers: string; body: string }> {
  const socket = await open(port, from).catch(() => null);
  if (socket === null) return { status: 0, headers: '', body: '' };
  let text = '';
  socket.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`);
  await closed(socket);
  const [head = '', body = ''] = text.split('\r\n\r\n');
  return { status: Number(/^HTTP\/1\.1 (\d+)/.exec(head)?.[1]), headers: head, body };
}

/** Opens a WebSocket from `from`; resolves with its first message, or its close code and reason. */
function wsFrom(
  port: number,
  from: string,
  path = '/ws',
): Promise<{ message?: string; code?: number; reason?: string }> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, { localAddress: from });
  return new Promise((resolve) => {
    ws.once('message', (data) => {
      resolve({ message: String(data) });
      ws.close();
    });
    ws.once('close', (code, reason) => resolve({ code, reason: String(reason) }));
    ws.once('error', () => undefined);
  });
}

/** Resolves once the socket is closed, reset or not (`once` would reject on a reset). */
function closed(socket: Socket): Promise<boolean> {
  if (socket.destroyed) return Promise.resolve(true);
  return new Promise((resolve) => socket.once('close', () => resolve(true)));
}

describe('idle connections', () => {
  it('are closed when they send nothing, never finish their headers, or trickle their body', {
    timeout: 30_000,
  }, async () => {
    const server = await serve(['--idle-timeout', '1']);
    const silent = await open(server.port);
    const trickle = await open(server.port);
    trickle.write(`GET /api/health HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n`);
    // Headers complete, then a body trickled a byte at a time.
    const body = await open(server.port);
    body.write(
      `POST /api/phase-update HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{`,
    );
    const drip = setInterval(() => body.writable && body.write(' '), 200);
    const started = Date.now();
    await Promise.all([closed(silent), closed(trickle), closed(body)]);
    clearInterval(drip);
    const took = Date.now() - started;
    assert.ok(took >= 800, `closed after ${took} ms, before the timeout`);
    // A connection that makes its request in time is served.
    assert.equal((await rawGet(server.port, '127.0.0.1')).status, 200);
  });
});

describe('connection caps', () => {
  let server: ServerProcess & { port: number };
  before(async () => {
    server = await serve([
      '--max-connections',
      '30',
      '--max-connections-per-address',
      '10',
      '--idle-timeout',
      '60',
    ]);
  });

  it('refuse an address over its share with 429 and a message; other addresses are served', async () => {
    const held = await Promise.all(
      Array.from({ length: 10 }, () => open(server.port, '127.0.0.2')),
    );
    const refused = await rawGet(server.port, '127.0.0.2');
    assert.equal(refused.status, 429);
    assert.match(refused.headers, /retry-after: 5/i);
    const body = JSON.parse(refused.body) as { error: string; message: string };
    assert.equal(body.error, 'too_many_connections');
    assert.match(body.message, /limit of 10 connections/);
    const ws = await wsFrom(server.port, '127.0.0.2');
    assert.equal(ws.code, 1013);
    assert.equal(
      server.output().match(/connections refused: a connection limit is reached/g)?.length,
      1,
      'one log line for the episode, not one per refusal',
    );
    assert.match(ws.reason ?? '', /limit of 10 connections/);
    assert.equal((await rawGet(server.port, '127.0.0.3')).status, 200);
    assert.match((await wsFrom(server.port, '127.0.0.3')).message ?? '', /"welcome"/);
    // Closing some frees the address's share.
    for (const s of held.slice(0, 3)) s.destroy();
    await waitFor(
      async () => ((await rawGet(server.port, '127.0.0.2')).status === 200 ? true : undefined),
      5000,
      'the address to be served again',
    );
    for (const s of held) s.destroy();
  });

  it('refuse everyone with 503 and a message when the server is full, and recover', async () => {
    const held: Socket[] = [];
    for (const from of ['127.0.0.4', '127.0.0.5', '127.0.0.6'])
      for (let i = 0; i < 10; i++) held.push(await open(server.port, from));
    const refused = await rawGet(server.port, '127.0.0.7');
    assert.equal(refused.status, 503);
    const body = JSON.parse(refused.body) as { error: string; message: string };
    assert.equal(body.error, 'server_full');
    assert.match(body.message, /limit of 30 connections/);
    const ws = await wsFrom(server.port, '127.0.0.7');
    assert.equal(ws.code, 1013);
    const legacy = await wsFrom(server.port, '127.0.0.7', '/ws/some-session');
    assert.equal(legacy.code, 1013, 'the legacy endpoint too');
    assert.match(legacy.reason ?? '', /limit of 30 connections/);
    for (const s of held) s.destroy();
    await waitFor(
      async () => ((await rawGet(server.port, '127.0.0.7')).status === 200 ? true : undefined),
      5000,
      'the server to serve again',
    );
  });
});

describe('a flood of idle connections', () => {
  it('keeps the server within its descriptors, and it serves again once they time out', async () => {
    const server = await serve(['--max-connections', '100', '--idle-timeout', '2']);
    const pid = server.child.pid as number;
    const fds = () => readdirSync(`/proc/${pid}/fd`).length;
    const baseline = fds();
    const flood: Promise<Socket>[] = [];
    for (let i = 0; i < 800; i++) flood.push(open(server.port, `127.0.1.${1 + (i % 200)}`));
    const held = await Promise.allSettled(flood);
    const peak = fds();
    // Its own cap, plus the refusals it holds to answer (64), plus closes still in flight.
    assert.ok(peak <= baseline + 100 + 64 + 64, `${peak} descriptors (baseline ${baseline})`);
    await waitFor(
      async () => ((await rawGet(server.port, '127.0.0.9')).status === 200 ? true : undefined),
      10_000,
      'the server to serve after the idle connections time out',
    );
    for (const r of held) if (r.status === 'fulfilled') r.value.destroy();
    // The server sees the closes a moment later.
    await waitFor(
      () => (fds() <= baseline + 4 ? true : undefined),
      5000,
      `descriptors back to the baseline (${baseline})`,
    );
  });
});
