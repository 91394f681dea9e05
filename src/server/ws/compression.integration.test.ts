import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type NetConnectOpts, type Socket } from 'node:net';
import { test } from 'node:test';
import WebSocket from 'ws';
import { startTestServer } from '../../../test/helpers/ws-server.ts';
import { LivestreamClient } from '../../client/client.ts';
import type { ServerMessage } from '../../shared/protocol.ts';

/** A `ws` client whose TCP socket is kept, to count what arrives on the wire. */
function wiredClient(url: string, options: WebSocket.ClientOptions = {}) {
  let socket: Socket | undefined;
  const received: ServerMessage[] = [];
  let payloadBytes = 0;
  const ws = new WebSocket(url, {
    ...options,
    createConnection: (opts: object) => {
      socket = connect(opts as NetConnectOpts);
      return socket;
    },
  });
  ws.on('message', (data) => {
    payloadBytes += (data as Buffer).length;
    received.push(JSON.parse(String(data)) as ServerMessage);
  });
  return { ws, received, payload: () => payloadBytes, wire: () => socket?.bytesRead ?? 0 };
}

function session(n: number) {
  return {
    status: { id: 'k', currentPhase: `Phase ${n}`, progressDetail: `Step ${n} of the build` },
    timeline: Array.from({ length: n }, (_, i) => ({ phase: `Phase ${i}`, endedAt: null })),
  };
}

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setImmediate(resolve));
}

test('deltas are compressed with context takeover when the client offers permessage-deflate', async (t) => {
  const server = await startTestServer();
  t.after(() => server.close());
  server.hub.set('session:k', session(1));
  const client = wiredClient(`${server.url}/ws`);
  t.after(() => client.ws.terminate());
  await once(client.ws, 'open');
  assert.equal(client.ws.extensions, 'permessage-deflate');
  client.ws.send(JSON.stringify({ type: 'subscribe', topics: ['session:k'] }));
  await until(() => client.received.some((m) => m.type === 'snapshot'));
  // One change at a time, as a build makes them.
  for (let n = 2; n <= 30; n++) {
    const delta = server.hub.set('session:k', session(n));
    await until(() => client.received.some((m) => m.type === 'delta' && m.seq === delta?.seq));
  }
  // Deltas repeat the envelope and keys of the ones before: far less on the wire than decoded.
  assert.ok(
    client.wire() < client.payload() / 2,
    `${client.wire()} bytes on the wire for ${client.payload()} of messages, ${server.stats.compressedMessages} compressed`,
  );
  assert.ok(server.stats.compressedMessages >= 30, `${server.stats.compressedMessages} compressed`);
  const merges = client.received.filter(
    (m) => m.type === 'delta' && m.op === 'patch' && m.patch.some((op) => op.op === 'merge'),
  );
  assert.equal(merges.length, 29, 'every status change is one merge');
  await until(() => server.compression.inFlight === 0);
});

test('a client that does not offer the extension gets plain frames', async (t) => {
  const server = await startTestServer();
  t.after(() => server.close());
  server.hub.set('session:k', session(3));
  const client = wiredClient(`${server.url}/ws`, { perMessageDeflate: false });
  t.after(() => client.ws.terminate());
  await once(client.ws, 'open');
  assert.equal(client.ws.extensions, '');
  client.ws.send(JSON.stringify({ type: 'subscribe', topics: ['session:k'] }));
  await until(() => client.received.some((m) => m.type === 'snapshot'));
  assert.equal(server.stats.compressedMessages, 0);
  assert.deepEqual(client.received.find((m) => m.type === 'snapshot')?.data, session(3));
});

test('beyond the cap of compressions in flight, messages go uncompressed and still arrive in order', async (t) => {
  const server = await startTestServer({ maxCompressing: 1 });
  t.after(() => server.close());
  server.hub.set('session:k', session(1));
  const clients = Array.from({ length: 5 }, () => wiredClient(`${server.url}/ws`));
  t.after(() => {
    for (const c of clients) c.ws.terminate();
  });
  await Promise.all(clients.map((c) => once(c.ws, 'open')));
  for (const c of clients) c.ws.send(JSON.stringify({ type: 'subscribe', topics: ['session:k'] }));
  await until(() => clients.every((c) => c.received.some((m) => m.type === 'snapshot')));
  for (let n = 2; n <= 20; n++) server.hub.set('session:k', session(n));
  const last = server.hub.get('session:k')?.version as number;
  await until(() =>
    clients.every((c) => c.received.some((m) => m.type === 'delta' && m.version === last)),
  );
  const sent = server.stats.messagesSent;
  assert.ok(server.stats.compressedMessages > 0);
  assert.ok(server.stats.compressedMessages < sent, `${server.stats.compressedMessages}/${sent}`);
  for (const c of clients) {
    const versions = c.received.flatMap((m) => (m.type === 'delta' ? [m.version] : []));
    assert.deepEqual(
      versions,
      Array.from({ length: last - 1 }, (_, i) => i + 2),
    );
  }
  await until(() => server.compression.inFlight === 0);
});

test("Node's global WebSocket negotiates compression and the reference client applies merges", async (t) => {
  const server = await startTestServer();
  t.after(() => server.close());
  server.hub.set('session:k', session(1));
  const client = new LivestreamClient({ url: `${server.url}/ws` });
  t.after(() => client.close());
  client.subscribe('session:k');
  client.connect();
  await new Promise<void>((resolve) => {
    const off = client.on(() => {
      if (client.topic('session:k') === undefined) return;
      off();
      resolve();
    });
  });
  const before = server.stats.compressedMessages;
  for (let n = 2; n <= 10; n++) server.hub.set('session:k', session(n));
  const final = server.hub.get('session:k');
  await new Promise<void>((resolve) => {
    const check = () => client.topic('session:k')?.version === final?.version;
    if (check()) resolve();
    const off = client.on(() => {
      if (!check()) return;
      off();
      resolve();
    });
  });
  assert.deepEqual(client.topic('session:k')?.data, session(10));
  assert.ok(server.stats.compressedMessages > before, 'the global WebSocket negotiated it');
});
