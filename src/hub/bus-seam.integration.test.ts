import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { RawClient, startTestServer, type TestServer } from '../../test/helpers/ws-server.ts';
import { wireCodec } from '../server/encode.ts';
import type { DeltaMessage, ServerMessage } from '../shared/protocol.ts';
import { InProcessBus } from './fanout.ts';
import { MemoryHub } from './hub.ts';
import type { Bus, Change, DeltaListener, ReplayStats, TopicState } from './types.ts';

/**
 * A second `Bus` implementation, in memory, standing in for Redis: one log
 * and one sequence shared by several replicas, delivery a turn later (as a
 * network would), whole states for a replica that joins late, and listener
 * presence across replicas. It proves the seam: hubs and the WebSocket
 * protocol run on it unchanged.
 */
class FakeSharedLog {
  readonly epoch = crypto.randomUUID();
  readonly entries: DeltaMessage[] = [];
  readonly states = new Map<string, { version: number; seq: number; data: unknown }>();
  readonly replicas = new Set<FakeReplicaBus>();
  seq = 0;

  append(change: Change, state: TopicState | null, from: FakeReplicaBus): DeltaMessage {
    const delta = { ...change, seq: ++this.seq } as DeltaMessage;
    this.entries.push(delta);
    if (state === null) this.states.delete(delta.topic);
    else this.states.set(delta.topic, { version: delta.version, seq: delta.seq, data: state.data });
    // Delivered later, in log order, to every replica (the writer too).
    queueMicrotask(() => {
      for (const replica of this.replicas) replica.receive(delta, replica === from);
    });
    return delta;
  }
}

class FakeReplicaBus implements Bus {
  readonly #log: FakeSharedLog;
  readonly #mirror: InProcessBus;
  readonly #followers = new Set<DeltaListener>();

  constructor(log: FakeSharedLog) {
    this.#log = log;
    this.#mirror = new InProcessBus({ epoch: log.epoch, codec: wireCodec });
    // A late joiner mirrors the log it can still read, so it replays from there.
    for (const delta of log.entries) this.#mirror.accept(delta);
    log.replicas.add(this);
  }

  get epoch(): string {
    return this.#log.epoch;
  }

  get seq(): number {
    return this.#mirror.seq;
  }

  get replayStats(): ReplayStats {
    return this.#mirror.replayStats;
  }

  publish(change: Change, state: TopicState | null): DeltaMessage {
    return this.#log.append(change, state, this);
  }

  receive(delta: DeltaMessage, own: boolean): void {
    if (!own) for (const apply of this.#followers) apply(delta);
    this.#mirror.accept(delta);
  }

  since(seq: number, topics: ReadonlySet<string>): DeltaMessage[] | null {
    return this.#mirror.since(seq, topics);
  }

  follow(apply: DeltaListener): () => void {
    for (const [topic, state] of this.#log.states) {
      apply({
        type: 'delta',
        topic,
        version: state.version,
        seq: state.seq,
        op: 'patch',
        patch: [{ op: 'replace', path: '', value: state.data }],
      });
    }
    this.#followers.add(apply);
    return () => this.#followers.delete(apply);
  }

  subscribe(topic: string, listener: DeltaListener): () => void {
    return this.#mirror.subscribe(topic, listener);
  }

  subscribeAll(listener: DeltaListener): () => void {
    return this.#mirror.subscribeAll(listener);
  }

  hasListeners(topic: string): boolean {
    for (const replica of this.#log.replicas) if (replica.#mirror.hasListeners(topic)) return true;
    return false;
  }

  async close(): Promise<void> {
    this.#log.replicas.delete(this);
  }
}

const servers: TestServer[] = [];
const clients: RawClient[] = [];
after(async () => {
  for (const client of clients) client.close();
  for (const server of servers) await server.close();
});

async function replica(log: FakeSharedLog): Promise<{ hub: MemoryHub; url: string }> {
  const hub = new MemoryHub({ bus: new FakeReplicaBus(log) });
  const server = await startTestServer({ hub });
  servers.push(server);
  return { hub, url: `${server.url}/ws` };
}

async function connect(url: string): Promise<RawClient> {
  const client = new RawClient(url);
  clients.push(client);
  await client.next((m) => m.type === 'welcome');
  return client;
}

const is =
  <T extends ServerMessage['type']>(type: T, topic?: string) =>
  (m: ServerMessage) =>
    m.type === type && (topic === undefined || (m as { topic?: string }).topic === topic);

test('two hubs on one shared bus: one sequence, deltas reach the other replica', async () => {
  const log = new FakeSharedLog();
  const a = await replica(log);
  const b = await replica(log);
  a.hub.set('session:x', { n: 1 });
  b.hub.set('session:y', { n: 1 });
  a.hub.set('session:x', { n: 2 });
  const onB = await connect(b.url);
  onB.send({ type: 'subscribe', topics: ['session:x'] });
  const snap = await onB.next(is('snapshot', 'session:x'));
  assert.deepEqual(snap.type === 'snapshot' && [snap.version, snap.data], [2, { n: 2 }]);
  assert.equal(a.hub.epoch, b.hub.epoch, 'one epoch: the shared sequence, not a process');
  assert.equal(a.hub.get('session:y')?.version, 1, 'b’s topic is in a’s state too');

  a.hub.set('session:x', { n: 3 });
  const delta = await onB.next(is('delta', 'session:x'));
  assert.deepEqual(delta.type === 'delta' && [delta.version, delta.seq], [3, 4]);
  assert.equal(b.hub.seq, 4);
  assert.equal(a.hub.fanout.hasListeners('session:x'), true, 'a sees b’s subscriber');
  assert.equal(a.hub.fanout.hasListeners('session:y'), false);
  onB.close();
});

test('a client resumes against the other replica with nothing missed or doubled', async () => {
  const log = new FakeSharedLog();
  const a = await replica(log);
  const b = await replica(log);
  a.hub.set('session:r', { n: 0 });
  const first = await connect(a.url);
  first.send({ type: 'subscribe', topics: ['session:r'] });
  const snap = await first.next(is('snapshot', 'session:r'));
  assert.ok(snap.type === 'snapshot');
  a.hub.set('session:r', { n: 1 });
  const seen = await first.next(is('delta', 'session:r'));
  assert.ok(seen.type === 'delta');
  first.close();
  for (let n = 2; n <= 6; n++) a.hub.set('session:r', { n });

  const second = await connect(b.url);
  second.send({
    type: 'resume',
    epoch: a.hub.epoch,
    seq: seen.seq,
    topics: { 'session:r': seen.version },
  });
  const resumed = await second.next(is('resumed'));
  assert.equal(resumed.type === 'resumed' && resumed.replayed, 5);
  const replayed = second.received.filter(is('delta'));
  assert.deepEqual(
    replayed.map((d) => d.type === 'delta' && d.version),
    [seen.version + 1, seen.version + 2, seen.version + 3, seen.version + 4, seen.version + 5],
  );
  assert.equal(second.received.filter(is('snapshot')).length, 0, 'no snapshot: nothing missed');
  second.close();
});

test('a replica that joins late has every topic and replays what its log holds', async () => {
  const log = new FakeSharedLog();
  const a = await replica(log);
  a.hub.set('session:l', { n: 1 });
  a.hub.append('logs:l', [{ n: 1, text: 'one' }], 100);
  a.hub.set('session:l', { n: 2 });
  a.hub.remove('session:gone');
  await new Promise<void>((resolve) => queueMicrotask(resolve));
  const late = await replica(log);
  assert.deepEqual(late.hub.get('session:l'), a.hub.get('session:l'));
  assert.deepEqual(late.hub.get('logs:l')?.data, { lines: [{ n: 1, text: 'one' }] });
  const client = await connect(late.url);
  client.send({ type: 'resume', epoch: log.epoch, seq: 1, topics: { 'session:l': 1 } });
  const resumed = await client.next(is('resumed'));
  assert.equal(resumed.type === 'resumed' && resumed.replayed, 1);
  client.close();
});
