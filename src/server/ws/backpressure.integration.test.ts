import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { Socket } from 'node:net';
import { test } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { RawClient, startTestServer } from '../../../test/helpers/ws-server.ts';
import type { ServerMessage } from '../../shared/protocol.ts';
import { SLOW_CONSUMER_CLOSE } from './protocol.ts';

const limits = {
  softBufferBytes: 64 * 1024,
  hardBufferBytes: 256 * 1024,
  stuckMs: 400,
  drainCheckMs: 20,
};
const pad = 'x'.repeat(16 * 1024);

function rawSocket(client: RawClient): Socket {
  return (client.ws as unknown as { _socket: Socket })._socket;
}

test('a client that stops reading is coalesced, then closed with 4008; memory stays bounded', async (t) => {
  const server = await startTestServer({ limits });
  t.after(() => server.close());
  const { hub, stats } = server;
  // Uncompressed: the flood must fill the socket, not shrink to nothing (the
  // pad compresses) while sends queue behind zlib, counted at full size.
  const client = new RawClient(`${server.url}/ws`, { perMessageDeflate: false });
  t.after(() => client.close());
  await client.next((m) => m.type === 'welcome');
  client.send({ type: 'subscribe', topics: ['session:big', 'session:small'] });
  await client.next((m) => m.type === 'snapshot' && m.topic === 'session:small');

  let n = 0;
  /** Publishes until the server marks the client slow; the loop is bounded (64 MB). */
  const floodUntilSlow = async () => {
    let slow = false;
    const onSlow = () => {
      slow = true;
    };
    stats.once('slow', onSlow);
    for (let i = 0; !slow && i < 4_000; i++) {
      hub.set('session:big', { n: ++n, pad: `${n}${pad}` });
      if (i % 8 === 0) await tick();
    }
    stats.off('slow', onSlow);
    assert.ok(slow, 'the server never saw the client as slow');
  };

  rawSocket(client).pause();
  await floodUntilSlow();
  const sentBefore = stats.messagesSent;
  for (let i = 0; i < 200; i++) hub.set('session:big', { n: ++n, pad: `${n}${pad}` });
  hub.set('session:small', { changed: true });
  assert.equal(stats.messagesSent, sentBefore, 'nothing is queued for a slow client');
  assert.ok(stats.maxBufferedBytes <= limits.hardBufferBytes, `${stats.maxBufferedBytes} bytes`);

  // It reads again: one fresh snapshot per changed topic instead of the backlog.
  const drained = once(stats, 'drained');
  rawSocket(client).resume();
  await drained;
  const resync = await client.next((m) => m.type === 'resync');
  assert.equal(resync.type === 'resync' && resync.reason, 'slow_consumer');
  const big = await client.next((m) => m.type === 'snapshot' && m.topic === 'session:big');
  assert.equal((big as { data: { n: number } }).data.n, n);
  const small = await client.next((m) => m.type === 'snapshot' && m.topic === 'session:small');
  assert.deepEqual((small as { data: unknown }).data, { changed: true });
  const deltas = client.received.filter((m: ServerMessage) => m.type === 'delta').length;
  assert.ok(deltas < n - 200, `${deltas} deltas for ${n} updates`);

  // Stops reading for good: closed with 4008 after stuckMs, buffer still bounded.
  rawSocket(client).pause();
  const closedBySlow = once(stats, 'slowClose');
  await floodUntilSlow();
  await closedBySlow;
  assert.equal(stats.slowConsumerCloses, 1);
  assert.ok(stats.maxBufferedBytes <= limits.hardBufferBytes, `${stats.maxBufferedBytes} bytes`);
  const closed = client.closed();
  rawSocket(client).resume();
  const { code, reason } = await closed;
  assert.equal(code, SLOW_CONSUMER_CLOSE);
  assert.match(reason, /slow consumer/);
});
