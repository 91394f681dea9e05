import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { WebSocket } from 'ws';
import { RawClient, startTestServer, type TestServer } from '../../../test/helpers/ws-server.ts';
import { MAX_CLIENT_MESSAGE_BYTES, type ServerMessage } from '../../shared/protocol.ts';

let server: TestServer;
const clients: RawClient[] = [];

before(async () => {
  server = await startTestServer({ allowedOrigins: ['https://dash.example'] });
});
after(async () => {
  for (const c of clients) c.close();
  await server.close();
});

async function connect(options?: ConstructorParameters<typeof WebSocket>[2]): Promise<RawClient> {
  const client = new RawClient(`${server.url}/ws`, options);
  clients.push(client);
  await client.opened();
  await client.next((m) => m.type === 'welcome');
  return client;
}

const is =
  <T extends ServerMessage['type']>(type: T, topic?: string) =>
  (m: ServerMessage) =>
    m.type === type && (topic === undefined || (m as { topic?: string }).topic === topic);

test('welcome, snapshot on subscribe, then deltas for the subscribed topics only', async () => {
  server.hub.set('session:a', { n: 1 });
  const client = await connect();
  const welcome = client.received[0];
  assert.equal(welcome?.type, 'welcome');
  assert.equal(welcome?.type === 'welcome' && welcome.epoch, server.hub.epoch);
  client.send({ type: 'subscribe', topics: ['session:a', 'session:none'] });
  const snap = await client.next(is('snapshot', 'session:a'));
  assert.deepEqual(snap.type === 'snapshot' && snap.data, { n: 1 });
  const empty = await client.next(is('snapshot', 'session:none'));
  assert.equal(empty.type === 'snapshot' && empty.data, null);

  server.hub.set('session:other', { x: 1 });
  server.hub.set('session:a', { n: 2 });
  const delta = await client.next(is('delta', 'session:a'));
  assert.equal(delta.type === 'delta' && delta.version, 2);
  assert.equal(
    client.received.some((m) => (m as { topic?: string }).topic === 'session:other'),
    false,
  );

  client.send({ type: 'unsubscribe', topics: ['session:a'] });
  client.send({ type: 'ping', id: 7 });
  const pong = await client.next(is('pong'));
  assert.equal(pong.type === 'pong' && pong.id, 7);
  server.hub.set('session:a', { n: 3 });
  client.send({ type: 'ping', id: 8 });
  await client.next(is('pong'));
  assert.equal(client.received.filter(is('delta', 'session:a')).length, 1);
});

test('bad input gets an error and the connection stays', async () => {
  const client = await connect();
  client.send('{not json');
  const bad = await client.next(is('error'));
  assert.equal(bad.type === 'error' && bad.code, 'bad_message');
  assert.match(bad.type === 'error' ? bad.message : '', /JSON/);

  client.send({ type: 'subscribe', topics: 'sessions' });
  const invalid = await client.next(is('error'));
  assert.equal(invalid.type === 'error' && invalid.code, 'bad_message');
  assert.match(invalid.type === 'error' ? invalid.message : '', /topics/);

  client.send({ type: 'subscribe', topics: ['nope', 'session:'] });
  const unknown = await client.next(is('error'));
  assert.equal(unknown.type === 'error' && unknown.code, 'unknown_topic');

  client.send({ type: 'subscribe', topics: ['sessions'] });
  await client.next(is('snapshot', 'sessions'));
  assert.equal(client.ws.readyState, WebSocket.OPEN);
});

test('too many topics is refused with an error', async () => {
  const limited = await startTestServer({ limits: { maxTopics: 2 } });
  const client = new RawClient(`${limited.url}/ws`);
  try {
    await client.next(is('welcome'));
    client.send({ type: 'subscribe', topics: ['session:1', 'session:2', 'session:3'] });
    const error = await client.next(is('error'));
    assert.equal(error.type === 'error' && error.code, 'too_many_topics');
    client.send({ type: 'subscribe', topics: ['session:1', 'session:2'] });
    await client.next(is('snapshot', 'session:2'));
  } finally {
    client.close();
    await limited.close();
  }
});

test('an oversized message closes the socket with 1009', async () => {
  const client = await connect();
  const closed = client.closed();
  client.send({ type: 'ping', pad: 'x'.repeat(MAX_CLIENT_MESSAGE_BYTES + 10) });
  assert.equal((await closed).code, 1009);
});

function refusedStatus(url: string, origin: string): Promise<number> {
  const ws = new WebSocket(url, { origin });
  ws.on('error', () => {});
  return new Promise<number>((resolve, reject) => {
    ws.once('unexpected-response', (req, res) => {
      req.destroy();
      resolve(res.statusCode ?? 0);
    });
    ws.once('open', () => reject(new Error('upgraded')));
  });
}

test('a foreign Origin is refused with 403 and never upgraded', async () => {
  assert.equal(await refusedStatus(`${server.url}/ws`, 'https://evil.example'), 403);
  assert.equal(await refusedStatus(`${server.url}/ws/a`, 'https://evil.example'), 403);
  assert.equal(await refusedStatus(`${server.url}/ws`, 'null'), 403);
  assert.equal(
    server.stats.clients,
    clients.filter((c) => c.ws.readyState === WebSocket.OPEN).length,
  );
});

test('same-origin, listed and absent Origins are accepted', async () => {
  const host = new URL(server.url).host;
  for (const origin of [`http://${host}`, 'https://dash.example', undefined]) {
    const client = await connect(origin ? { origin } : {});
    client.close();
  }
});

test('resume replays exactly the missed deltas, or resyncs', async () => {
  const { hub } = server;
  hub.set('session:r', { n: 0 });
  const first = await connect();
  first.send({ type: 'subscribe', topics: ['session:r', 'session:q'] });
  const snap = await first.next(is('snapshot', 'session:q'));
  const seq = snap.type === 'snapshot' ? snap.seq : 0;
  const version = hub.get('session:r')?.version ?? 0;
  first.close();
  for (let n = 1; n <= 5; n++) hub.set('session:r', { n });

  const second = await connect();
  second.send({
    type: 'resume',
    epoch: hub.epoch,
    seq,
    topics: { 'session:r': version, 'session:q': 0 },
  });
  const resumed = await second.next(is('resumed'));
  assert.equal(resumed.type === 'resumed' && resumed.replayed, 5);
  const replayed = second.received.filter(is('delta'));
  assert.deepEqual(
    replayed.map((d) => d.type === 'delta' && d.version),
    [version + 1, version + 2, version + 3, version + 4, version + 5],
  );

  const third = await connect();
  third.send({ type: 'resume', epoch: 'old-epoch', seq, topics: { 'session:r': version } });
  const resync = await third.next(is('resync'));
  assert.equal(resync.type === 'resync' && resync.reason, 'epoch_changed');
  const fresh = await third.next(is('snapshot', 'session:r'));
  assert.deepEqual(fresh.type === 'snapshot' && fresh.data, { n: 5 });

  // Versions that do not line up with the replay get a snapshot instead.
  const fourth = await connect();
  fourth.send({ type: 'resume', epoch: hub.epoch, seq, topics: { 'session:r': version - 1 } });
  const fixed = await fourth.next(is('snapshot', 'session:r'));
  assert.equal(fixed.type === 'snapshot' && fixed.version, version + 5);
  const done = await fourth.next(is('resumed'));
  assert.equal(done.type === 'resumed' && done.replayed, 0);
});

test('resume past the replay buffer answers gap_too_old and snapshots', async () => {
  const { MemoryHub } = await import('../../hub/hub.ts');
  const hub = new MemoryHub({ limits: { maxDeltas: 3 } });
  const small = await startTestServer({ hub });
  const client = new RawClient(`${small.url}/ws`);
  try {
    await client.next(is('welcome'));
    for (let n = 1; n <= 10; n++) hub.set('session:g', { n });
    client.send({ type: 'resume', epoch: hub.epoch, seq: 1, topics: { 'session:g': 1 } });
    const resync = await client.next(is('resync'));
    assert.equal(resync.type === 'resync' && resync.reason, 'gap_too_old');
    const snap = await client.next(is('snapshot', 'session:g'));
    assert.deepEqual(snap.type === 'snapshot' && snap.data, { n: 10 });
  } finally {
    client.close();
    await small.close();
  }
});

test('many clients on many topics each receive only their topics', async () => {
  const many: RawClient[] = [];
  for (let i = 0; i < 40; i++) {
    const client = await connect();
    client.send({ type: 'subscribe', topics: [`metrics:t${i % 8}`] });
    await client.next(is('snapshot'));
    many.push(client);
  }
  for (let round = 1; round <= 3; round++) {
    for (let t = 0; t < 8; t++) server.hub.set(`metrics:t${t}`, { round, t });
  }
  await Promise.all(
    many.map((client, i) =>
      client.next((m) => m.type === 'delta' && m.topic === `metrics:t${i % 8}` && m.version === 3),
    ),
  );
  for (const [i, client] of many.entries()) {
    const topics = new Set(
      client.received.filter(is('delta')).map((m) => (m as { topic: string }).topic),
    );
    assert.deepEqual([...topics], [`metrics:t${i % 8}`]);
    client.close();
  }
});

test('a socket that does not answer pings is terminated', async () => {
  // Long enough that a busy machine still answers the healthy socket's pings in time.
  const quick = await startTestServer({ heartbeatMs: 250 });
  try {
    const healthy = new RawClient(`${quick.url}/ws`);
    const mute = new RawClient(`${quick.url}/ws`, { autoPong: false });
    await healthy.opened();
    await mute.opened();
    const closed = await mute.closed();
    assert.equal(closed.code, 1006);
    assert.equal(healthy.ws.readyState, WebSocket.OPEN);
    healthy.close();
  } finally {
    await quick.close();
  }
});

test('closing the server closes sockets cleanly', async () => {
  const closing = await startTestServer();
  const client = new RawClient(`${closing.url}/ws`);
  await client.next(is('welcome'));
  const closed = client.closed();
  await closing.close();
  // 1001 from this plugin, or 1005 when @fastify/websocket's own preClose ran first.
  assert.ok([1001, 1005].includes((await closed).code));
});

test('a topic loaded on demand: its snapshot waits for the load, later messages keep their order', async () => {
  let release: () => void = () => {};
  const loaded = new Promise<void>((resolve) => {
    release = resolve;
  });
  const lazy = await startTestServer({
    warm: (names) =>
      names.includes('logs:cold')
        ? loaded.then(() => {
            lazy.hub.set('logs:cold', { lines: [{ n: 1 }] });
          })
        : null,
  });
  const client = new RawClient(`${lazy.url}/ws`);
  try {
    await client.opened();
    await client.next(is('welcome'));
    client.send({ type: 'subscribe', topics: ['logs:cold'] });
    client.send({ type: 'ping', id: 1 });
    client.send({ type: 'unsubscribe', topics: ['logs:cold'] });
    client.send({ type: 'subscribe', topics: ['session:warm'] });
    // Nothing is answered before the load: the ping waits behind the subscribe.
    lazy.hub.set('session:warm', { v: 1 });
    release();
    const order = await client.next(is('snapshot', 'session:warm'));
    assert.ok(order);
    assert.deepEqual(
      client.received.slice(1).map((m) => `${m.type}:${(m as { topic?: string }).topic ?? ''}`),
      ['snapshot:logs:cold', 'pong:', 'snapshot:session:warm'],
    );
    const snapshot = client.received[1];
    assert.deepEqual(snapshot?.type === 'snapshot' && snapshot.data, { lines: [{ n: 1 }] });
    // Unsubscribed in order: a change to the loaded topic is not sent.
    lazy.hub.set('logs:cold', { lines: [{ n: 1 }, { n: 2 }] });
    client.send({ type: 'ping', id: 2 });
    await client.next(is('pong'));
    assert.equal(client.received.filter(is('delta', 'logs:cold')).length, 0);
  } finally {
    client.close();
    await lazy.close();
  }
});
