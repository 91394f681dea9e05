import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { after, test } from 'node:test';
import { POST_LIMIT } from '../../src/server/rate-limit.ts';
import {
  FORWARD_WIRE_VERSION,
  FORWARDER_HEADER,
  REPLICA_HEADER,
} from '../../src/shared/forward.ts';
import { scaleServices } from '../helpers/scale-services.ts';
import { waitFor } from '../helpers/server.ts';
import { ReplicaSet } from './replicas.ts';

/**
 * The rate limit counts the client, not the hop: forwarders behind one
 * address (a NAT, one CI box) each have their own budget, and the writer does
 * not count its followers' requests against the follower's address. Before,
 * twenty forwarders on one box shared 200 POSTs per 4 s and stalled together
 * for the rest of the window (`npm run bench -- scale`: p99 4 s).
 */
const services = scaleServices();

/** A few keep-alive sockets per client address: the per-address connection cap is not under test. */
const agents = new Map<string, Agent>();
after(() => {
  for (const agent of agents.values()) agent.destroy();
});
function agentFor(localAddress: string): Agent {
  let agent = agents.get(localAddress);
  if (!agent) {
    agent = new Agent({ keepAlive: true, maxSockets: 8, localAddress });
    agents.set(localAddress, agent);
  }
  return agent;
}

/** POSTs `body` from `localAddress` (any 127.x address is loopback on Linux); resolves with the status. */
function post(
  url: string,
  path: string,
  body: unknown,
  opts: { localAddress?: string; headers?: Record<string, string> } = {},
): Promise<number> {
  const text = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}${path}`,
      {
        method: 'POST',
        agent: agentFor(opts.localAddress ?? '127.0.0.1'),
        headers: { 'content-type': 'application/json', ...opts.headers },
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

/** An empty batch: the route's answer is what is measured here, not what it applies. */
const batch = (forwarder: string) => ({
  version: FORWARD_WIRE_VERSION,
  forwarder,
  host: 'ci-1',
  dropped: 0,
  events: [],
});

const phase = (id: string, n: number) => ({
  session_id: id,
  current_phase: `Phase ${n}`,
  phase_number: '2/7',
  status: 'in_progress',
  progress_detail: `step ${n}`,
});

async function statuses(sends: Promise<number>[]): Promise<Map<number, number>> {
  const counts = new Map<number, number>();
  for (const status of await Promise.all(sends)) counts.set(status, (counts.get(status) ?? 0) + 1);
  return counts;
}

test('forwarders on one address each have their own budget; pushes keep theirs', async (t) => {
  const set = new ReplicaSet(`${services.redis.url}/2?prefix=rl1:`, services.pg.url);
  t.after(() => set.close());
  const writer = await set.start();
  const n = POST_LIMIT.max;
  const sends: Promise<number>[] = [];
  const ids = [crypto.randomUUID(), crypto.randomUUID()];
  for (let i = 0; i < n; i++) {
    for (const id of ids) {
      sends.push(
        post(writer.url, '/api/forward', batch(id), { headers: { [FORWARDER_HEADER]: id } }),
      );
    }
  }
  assert.deepEqual([...(await statuses(sends))], [[200, 2 * n]], 'no forward batch refused');
  // Ordinary pushes from the same address still have their own, whole budget.
  const pushes = Array.from({ length: 20 }, (_, i) =>
    post(writer.url, '/api/phase-update', phase('local', i)),
  );
  assert.deepEqual([...(await statuses(pushes))], [[200, 20]]);
  // Past its budget a push flood is refused as before.
  const flood = Array.from({ length: n }, (_, i) =>
    post(writer.url, '/api/phase-update', phase('local', i)),
  );
  assert.ok(((await statuses(flood)).get(429) ?? 0) > 0, 'a flood of pushes is still limited');
});

test('a follower passes its clients on: the writer does not count them as one address', async (t) => {
  const set = new ReplicaSet(`${services.redis.url}/3?prefix=rl2:`, services.pg.url);
  t.after(() => set.close());
  const writer = await set.start();
  const follower = await set.start();
  assert.equal(follower.role, 'follower');
  await waitFor(() => follower.bus.writerUrl ?? undefined, 5000, 'the writer url on the follower');
  // Two clients, each within its own budget, together past one address's.
  const each = Math.ceil(POST_LIMIT.max * 0.75);
  const sends: Promise<number>[] = [];
  for (const [k, localAddress] of ['127.0.0.2', '127.0.0.3'].entries()) {
    for (let i = 0; i < each; i++) {
      sends.push(post(follower.url, '/api/phase-update', phase(`via-${k}`, i), { localAddress }));
    }
  }
  assert.deepEqual([...(await statuses(sends))], [[200, 2 * each]]);
  // The follower still limits each of its clients.
  const flood = Array.from({ length: POST_LIMIT.max + 10 }, (_, i) =>
    post(follower.url, '/api/phase-update', phase('flood', i), { localAddress: '127.0.0.4' }),
  );
  assert.ok(((await statuses(flood)).get(429) ?? 0) > 0, 'the follower limits a flooding client');
  // A client cannot claim to be a replica without the key.
  const forged = Array.from({ length: POST_LIMIT.max + 10 }, (_, i) =>
    post(writer.url, '/api/phase-update', phase('forged', i), {
      localAddress: '127.0.0.5',
      headers: { [REPLICA_HEADER]: 'not-the-key' },
    }),
  );
  assert.ok(((await statuses(forged)).get(429) ?? 0) > 0, 'a forged replica header is counted');
});
