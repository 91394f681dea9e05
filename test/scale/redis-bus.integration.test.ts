import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import { Redis } from 'ioredis';
import type { SessionDetail } from '../../src/shared/model.ts';
import { scaleServices } from '../helpers/scale-services.ts';
import { waitFor } from '../helpers/server.ts';
import { held, push, ReplicaSet } from './replicas.ts';

const services = scaleServices();

const phase = (id: string, n: number) => ({
  session_id: id,
  current_phase: `Phase ${n}`,
  phase_number: `${Math.min(n, 6)}/7`,
  status: 'in_progress',
  progress_detail: `step ${n}`,
});

test('two replicas on one Redis: a push to either reaches a client on the other', async (t) => {
  const set = new ReplicaSet(`${services.redis.url}/1?lease_ms=1500&prefix=t1:`, services.pg.url);
  t.after(() => set.close());
  const a = await set.start();
  const b = await set.start();
  assert.equal(a.role, 'writer');
  assert.equal(b.role, 'follower');
  assert.equal(a.bus.epoch, b.bus.epoch, 'one epoch: the shared sequence');

  const onB = set.client(() => b.url, ['session:fleet-a']);
  const onA = set.client(() => a.url, ['session:fleet-a']);
  assert.equal(await push(a.url, phase('fleet-a', 1)), 200);
  await held<SessionDetail>(onB, 'session:fleet-a', (d) => d.status.currentPhase === 'Phase 1');

  // A write sent to the follower goes to the writer; a read there is the writer's answer.
  await waitFor(() => b.bus.writerUrl ?? undefined, 5000, 'the writer url on b');
  assert.equal(await push(b.url, phase('fleet-a', 2)), 200);
  await held<SessionDetail>(onA, 'session:fleet-a', (d) => d.status.currentPhase === 'Phase 2');
  await held<SessionDetail>(onB, 'session:fleet-a', (d) => d.status.currentPhase === 'Phase 2');
  const listed = (await (await fetch(`${b.url}/api/sessions`)).json()) as {
    sessions: { id: string }[];
  };
  assert.deepEqual(
    listed.sessions.map((s) => s.id),
    ['fleet-a'],
  );
  assert.equal(a.bus.seq, b.bus.seq, 'both replicas at the same seq');
  const health = (await (await fetch(`${b.url}/api/replica`)).json()) as {
    role: string;
    seq: number;
  };
  assert.deepEqual([health.role, health.seq], ['follower', b.bus.seq]);
  const metrics = await (await fetch(`${b.url}/metrics`)).text();
  assert.match(metrics, new RegExp(`livestream_bus_seq ${b.bus.seq}\\b`));
  assert.equal(onB.stats.gaps, 0);
  assert.equal(a.hub.fanout.hasListeners('session:fleet-a'), true);
});

test('a client whose replica stops resumes on the other: nothing missed or doubled', async (t) => {
  const set = new ReplicaSet(`${services.redis.url}/2?lease_ms=1500&prefix=t2:`, services.pg.url);
  t.after(() => set.close());
  const a = await set.start();
  const b = await set.start();
  assert.equal(a.role, 'writer');
  const target = { url: a.url };
  const client = set.client(() => target.url, ['session:moving']);
  for (let n = 1; n <= 5; n++) assert.equal(await push(a.url, phase('moving', n)), 200);
  await held<SessionDetail>(client, 'session:moving', (d) => d.status.currentPhase === 'Phase 5');
  const before = { ...client.stats };

  // The writer goes away; the client is sent to b, which takes the lease and the engines.
  target.url = b.url;
  await a.stop();
  await b.whenRole('writer');
  for (let n = 6; n <= 9; n++) assert.equal(await push(b.url, phase('moving', n)), 200);
  const seen = await held<SessionDetail>(
    client,
    'session:moving',
    (d) => d.status.currentPhase === 'Phase 9',
  );
  assert.equal(client.getState().epoch, b.bus.epoch, 'same epoch across the failover');
  assert.ok(client.stats.resumes > before.resumes, 'the client resumed');
  assert.equal(client.stats.resyncs, before.resyncs, 'no resync: nothing missed');
  // Resuming against a writer whose newest delta is still on its way to Redis, the client
  // gets that topic's snapshot and then the delta, which it drops by version (counted in
  // `duplicates`): at most once per topic, never applied twice.
  assert.ok(client.stats.duplicates - before.duplicates <= 1, 'nothing applied twice');
  assert.equal(client.stats.gaps, 0);
  const truth = b.hub.get('session:moving');
  assert.deepEqual(seen, truth?.data, 'the client holds the writer’s state');
  assert.equal(client.topic('session:moving' as 'sessions')?.version, truth?.version);
});

test('Redis losing its data (a new epoch): replicas rebuild, clients resync, nothing stays stale', async (t) => {
  const set = new ReplicaSet(`${services.redis.url}/3?lease_ms=1000&prefix=t3:`, services.pg.url);
  t.after(() => set.close());
  const a = await set.start();
  const b = await set.start();
  const onB = set.client(() => b.url, ['session:flushed']);
  assert.equal(await push(a.url, phase('flushed', 1)), 200);
  await held<SessionDetail>(onB, 'session:flushed', (d) => d.status.currentPhase === 'Phase 1');
  const epoch = a.bus.epoch;

  const raw = new Redis(`${services.redis.url}/3`);
  t.after(() => raw.disconnect());
  await raw.flushdb();
  // A replica being rebuilt has no bus for a moment: asked then, it throws.
  const onNewEpoch = (r: (typeof set.replicas)[number]) => {
    try {
      return r.bus.epoch !== epoch;
    } catch {
      return false;
    }
  };
  await waitFor(
    () => (onNewEpoch(a) && onNewEpoch(b) ? true : undefined),
    10_000,
    'both on a new epoch',
  );
  const writer = await waitFor(
    () => set.replicas.find((r) => onNewEpoch(r) && r.role === 'writer'),
    10_000,
    'a writer',
  );
  assert.equal(await push(writer.url, phase('flushed', 2)), 200);
  await held<SessionDetail>(onB, 'session:flushed', (d) => d.status.currentPhase === 'Phase 2');
  assert.ok(onB.stats.resyncs + onB.stats.snapshots > 1, 'the client took fresh snapshots');
  assert.equal(onB.getState().epoch, b.bus.epoch);
});

test('a replica joining between state writes rebuilds each topic from the state and the log', async (t) => {
  const set = new ReplicaSet(`${services.redis.url}/4?lease_ms=1500&prefix=t4:`, services.pg.url);
  t.after(() => set.close());
  const a = await set.start();
  // Many changes within one state interval: most reach Redis as log entries only.
  for (let n = 1; n <= 50; n++) {
    a.hub.append('logs:joiner', [{ n, at: n, level: 'info', text: `line ${n}` }], 1000);
    a.hub.set('scratch:joiner', { n });
  }
  await a.bus.flush();
  const b = await set.start();
  assert.deepEqual(b.hub.get('logs:joiner'), a.hub.get('logs:joiner'));
  assert.deepEqual(b.hub.get('scratch:joiner'), a.hub.get('scratch:joiner'));
  a.hub.set('scratch:joiner', { n: 51 });
  await waitFor(() => (b.hub.get('scratch:joiner')?.version === 51 ? true : undefined));
});

test('a writer past its queue bound sends the topics whole: a follower and a joiner get every newest state, and so does the next writer', async (t) => {
  const set = new ReplicaSet(
    `${services.redis.url}/5?lease_ms=1500&prefix=t5:&queue_kb=16`,
    services.pg.url,
  );
  t.after(() => set.close());
  const a = await set.start();
  const b = await set.start();
  const topics = Array.from({ length: 40 }, (_, i) => `scratch:bound-${i}`);
  const filler = 'x'.repeat(2000);
  // Synchronous bursts, faster than any Redis answers: the queue fills, the rest is kept out.
  for (let round = 1; round <= 5; round++) {
    for (const topic of topics) a.hub.set(topic, { round, filler });
  }
  a.hub.remove(topics[0] as string);
  const stats = a.bus.queueStats;
  assert.ok(stats.keptOut > 0 && stats.outOfStep > 0, 'past the bound');
  assert.ok(stats.bytes < 16 * 1024 + 8 * 1024, `the queue within its bound (${stats.bytes} B)`);
  await assert.rejects(a.bus.flush(), /Redis is not taking the bus's writes/);
  await waitFor(() => (a.bus.queueStats.outOfStep === 0 ? true : undefined), 10_000, 'in step');
  await a.bus.flush();
  const same = (r: typeof a) =>
    topics.every((topic) => isDeepStrictEqual(r.hub.get(topic)?.data, a.hub.get(topic)?.data));
  await waitFor(
    () => (same(b) ? true : undefined),
    10_000,
    'the follower holds every newest state',
  );
  assert.equal(b.hub.get(topics[0] as string), undefined, 'the removed topic is gone there too');
  const c = await set.start();
  assert.ok(same(c), 'a replica joining now reads them from Redis');

  // Out of step again, then stopped: the states go to Redis before the lease is handed back.
  for (const topic of topics.slice(1)) a.hub.set(topic, { round: 6, filler: 'y'.repeat(2000) });
  assert.ok(a.bus.queueStats.outOfStep > 0);
  const last = new Map(topics.map((topic) => [topic, a.hub.get(topic)?.data]));
  await a.stop();
  // A replica being rebuilt has no role for a moment: asked then, it throws.
  const writing = (r: typeof a) => {
    try {
      return r.role === 'writer';
    } catch {
      return false;
    }
  };
  const next = await waitFor(() => [b, c].find(writing), 10_000, 'a new writer');
  for (const topic of topics) {
    assert.deepEqual(next.hub.get(topic)?.data, last.get(topic), `${topic} on the new writer`);
  }
});
