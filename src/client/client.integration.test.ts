import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { startTestServer, type TestServer } from '../../test/helpers/ws-server.ts';
import { MemoryHub } from '../hub/hub.ts';
import { type ClientState, LivestreamClient } from './client.ts';

/** Resolves when `check` holds, re-checking on every change of the client. */
function until(client: LivestreamClient, check: () => boolean): Promise<void> {
  if (check()) return Promise.resolve();
  return new Promise((resolve) => {
    const off = client.on(() => {
      if (!check()) return;
      off();
      resolve();
    });
  });
}

function inSync(client: LivestreamClient, hub: MemoryHub, names: string[]): boolean {
  return names.every((name) => {
    const held = client.topic(name as 'sessions');
    const state = hub.get(name);
    return held !== undefined && state !== undefined && held.version === state.version;
  });
}

function killAll(server: TestServer): void {
  for (const ws of server.app.websocketServer.clients) ws.terminate();
}

test('subscriptions are ref-counted and the store snapshot is stable', async (t) => {
  const server = await startTestServer();
  t.after(() => server.close());
  const client = new LivestreamClient({ url: `${server.url}/ws` });
  t.after(() => client.close());
  assert.equal(client.getState().status, 'offline');
  server.hub.set('sessions', { sessions: {} });
  const releaseA = client.subscribe('sessions');
  const releaseB = client.subscribe('sessions');
  client.connect();
  assert.equal(client.getState().status, 'connecting');
  await until(client, () => client.topic('sessions') !== undefined);
  assert.equal(client.getState().status, 'live');
  assert.equal(client.getState().epoch, server.hub.epoch);

  const before = client.getSnapshot();
  assert.equal(client.getSnapshot(), before, 'same object while nothing changed');
  const entry = client.topic('sessions');
  server.hub.set('sessions', { sessions: { a: { id: 'a' } } } as never);
  await until(client, () => client.topic('sessions')?.version === 2);
  assert.notEqual(client.getSnapshot(), before);
  assert.notEqual(client.topic('sessions'), entry);
  assert.deepEqual(client.topic('sessions')?.data, { sessions: { a: { id: 'a' } } });

  releaseA();
  releaseA();
  server.hub.set('sessions', { sessions: {} });
  await until(client, () => client.topic('sessions')?.version === 3);
  releaseB();
  assert.equal(client.topic('sessions'), undefined);
  assert.equal(client.getSnapshot().topics.sessions, undefined);
});

test('after a killed connection the client resumes: equal state, nothing applied twice', async (t) => {
  const server = await startTestServer();
  t.after(() => server.close());
  const { hub } = server;
  hub.set('session:k', { n: 0, phase: 'Scout' });
  hub.append('logs:k', [{ n: 0, text: 'start' }], 1_000);
  const client = new LivestreamClient({
    url: `${server.url}/ws`,
    backoff: { initialMs: 10, maxMs: 50 },
  });
  t.after(() => client.close());
  const states: ClientState['status'][] = [];
  client.on(() => {
    const status = client.getState().status;
    if (states.at(-1) !== status) states.push(status);
  });
  client.subscribe('session:k');
  client.subscribe('logs:k');
  client.connect();
  await until(client, () => inSync(client, hub, ['session:k', 'logs:k']));
  const startVersions = {
    session: client.topic('session:k')?.version ?? 0,
    logs: client.topic('logs:k')?.version ?? 0,
  };

  for (let i = 1; i <= 300; i++) {
    hub.set('session:k', { n: i, phase: i < 150 ? 'Builder' : 'Test' });
    hub.append('logs:k', [{ n: i, text: `line ${i}` }], 1_000);
    if (i === 100) killAll(server);
    if (i === 220) {
      await until(client, () => client.stats.resumes >= 1);
      killAll(server);
    }
    if (i % 5 === 0) await tick();
  }
  await until(
    client,
    () => client.stats.resumes >= 2 && inSync(client, hub, ['session:k', 'logs:k']),
  );

  assert.deepEqual(client.topic('session:k')?.data, hub.get('session:k')?.data);
  assert.deepEqual(client.topic('logs:k')?.data, hub.get('logs:k')?.data);
  const expectedApplied =
    (hub.get('session:k')?.version ?? 0) -
    startVersions.session +
    (hub.get('logs:k')?.version ?? 0) -
    startVersions.logs;
  assert.equal(client.stats.applied, expectedApplied, 'each delta applied exactly once');
  assert.equal(client.stats.snapshots, 2, 'resumed from the replay buffer, no snapshot needed');
  assert.equal(client.stats.resyncs, 0);
  assert.ok(states.includes('reconnecting'), states.join(' → '));
  assert.equal(states.at(-1), 'live');
});

test('after a server restart (new epoch) the client resyncs and ends equal', async (t) => {
  let server = await startTestServer();
  t.after(() => server.close());
  server.hub.set('session:r', { phase: 'Builder', n: 1 });
  server.hub.set('metrics:r', { tokens: 10 });
  const client = new LivestreamClient({
    url: () => `${server.url}/ws`,
    backoff: { initialMs: 10, maxMs: 50 },
  });
  t.after(() => client.close());
  client.subscribe('session:r');
  client.subscribe('metrics:r');
  client.connect();
  await until(client, () => inSync(client, server.hub, ['session:r', 'metrics:r']));
  const firstEpoch = client.getState().epoch;

  await server.close();
  await until(client, () => client.getState().status !== 'live');
  const hub = new MemoryHub();
  hub.set('session:r', { phase: 'Test', n: 2 });
  server = await startTestServer({ hub });
  await until(
    client,
    () =>
      client.getState().epoch === hub.epoch &&
      inSync(client, hub, ['session:r']) &&
      client.topic('metrics:r')?.data === null,
  );
  assert.notEqual(firstEpoch, hub.epoch);
  assert.deepEqual(client.topic('session:r')?.data, { phase: 'Test', n: 2 });
  assert.equal(client.stats.resyncs, 1);
  hub.set('session:r', { phase: 'Test', n: 3 });
  await until(client, () => inSync(client, hub, ['session:r']));
  assert.deepEqual(client.topic('session:r')?.data, { phase: 'Test', n: 3 });
});

test('a token is sent as a query parameter and server errors reach onError', async (t) => {
  const server = await startTestServer();
  t.after(() => server.close());
  let seenUrl = '';
  server.app.server.prependListener('upgrade', (request: { url: string }) => {
    seenUrl = request.url;
  });
  let resolve: (code: string) => void = () => {};
  const errored = new Promise<string>((r) => {
    resolve = r;
  });
  const client = new LivestreamClient({
    url: `${server.url}/ws`,
    token: 's3cret/+',
    onError: (error) => resolve(error.code),
  });
  t.after(() => client.close());
  client.subscribe('not-a-topic');
  client.connect();
  assert.equal(await errored, 'unknown_topic');
  assert.equal(seenUrl, '/ws?token=s3cret%2F%2B');
});
