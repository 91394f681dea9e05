import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LivestreamClient } from '../client/index.ts';
import { MemoryHub } from './hub.ts';
import { inProcessSocket } from './in-process-socket.ts';

/** Resolves once `pred` holds, checked on every client change. */
function until(client: LivestreamClient, pred: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      if (!pred()) return;
      off();
      resolve();
    };
    const off = client.on(check);
    check();
  });
}

test('the protocol client over the in-process socket: snapshot, deltas in order, release', async () => {
  const hub = new MemoryHub();
  hub.set('plans', { plans: {} });
  const client = new LivestreamClient({ url: 'in-process', WebSocket: inProcessSocket(hub) });
  client.connect();
  const release = client.subscribe('plans');
  await until(client, () => client.topic('plans')?.data !== undefined);
  assert.equal(client.getState().status, 'live');
  assert.deepEqual(client.topic('plans')?.data, { plans: {} });

  for (let i = 1; i <= 5; i++) {
    hub.set('plans', { plans: { [`P${i}`]: { id: `P${i}` } } });
  }
  await until(client, () => client.topic('plans')?.version === 6);
  assert.deepEqual(client.topic('plans')?.data, { plans: { P5: { id: 'P5' } } });
  assert.equal(client.stats.gaps, 0);
  const held = client.topic('plans')?.data as { plans: Record<string, unknown> };
  hub.set('plans', { plans: {} });
  assert.deepEqual(Object.keys(held.plans), ['P5'], 'the client never holds the hub’s objects');

  release();
  await new Promise((resolve) => setImmediate(resolve));
  hub.set('plans', { plans: { late: {} } });
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(client.topic('plans'), undefined, 'a released topic gets nothing more');
  assert.equal(hub.fanout.hasListeners('plans'), false);
  client.close();
});

test('an unknown topic is an error message, as on the server', async () => {
  const hub = new MemoryHub();
  const errors: string[] = [];
  const client = new LivestreamClient({
    url: 'in-process',
    WebSocket: inProcessSocket(hub),
    onError: (e) => errors.push(e.code),
  });
  client.connect();
  client.subscribe('nope:1');
  await until(client, () => client.getState().status === 'live');
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(errors, ['unknown_topic']);
  client.close();
});

test('a dropped in-process socket reconnects: the resume gets fresh snapshots, then deltas', async () => {
  const hub = new MemoryHub();
  hub.set('plans', { plans: { A: { id: 'A' } } });
  const Base = inProcessSocket(hub);
  const sockets: InstanceType<typeof Base>[] = [];
  class Tracked extends Base {
    constructor(url: string) {
      super(url);
      sockets.push(this);
    }
  }
  const client = new LivestreamClient({
    url: 'in-process',
    WebSocket: Tracked,
    backoff: { initialMs: 5, maxMs: 5 },
  });
  client.connect();
  client.subscribe('plans');
  await until(client, () => client.topic('plans')?.version === 1);
  sockets[0]?.close();
  hub.set('plans', { plans: { A: { id: 'A' }, B: { id: 'B' } } });
  await until(client, () => sockets.length === 2 && client.getState().status === 'live');
  await until(client, () => client.topic('plans')?.version === 2);
  const plans = client.topic('plans')?.data as { plans: object } | undefined;
  assert.deepEqual(Object.keys(plans?.plans ?? {}), ['A', 'B']);
  hub.set('plans', { plans: {} });
  await until(client, () => client.topic('plans')?.version === 3);
  assert.equal(client.stats.resyncs, 1);
  client.close();
});
