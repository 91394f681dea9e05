import WebSocket from 'ws';
import { LivestreamClient } from '../src/client/client.ts';
import type { DeltaMessage, ServerMessage } from '../src/shared/protocol.ts';
import { percentile } from './stats.ts';

/**
 * Child process of bench/protocol.ts, so that client work does not run on the
 * server's event loop. `fanout <url> <n>`: n raw `ws` clients on `sessions`,
 * measuring delivery latency from the `changedAt` the server stamped.
 * `idle <url> <n> <sessions>`: n LivestreamClients on quiet sessions.
 * Talks to the parent over IPC.
 */
const [mode, url = '', countText = '0', sessionsText = '1'] = process.argv.slice(2);
const count = Number(countText);
const send = (message: unknown) => process.send?.(message);
const wallNow = () => performance.timeOrigin + performance.now();

/** The `changedAt` a delta sets, as a replace of that key or inside a merge. */
function changedAt(delta: DeltaMessage): number | undefined {
  if (delta.op !== 'patch') return undefined;
  for (const op of delta.patch) {
    if (op.op === 'merge' && typeof op.value.changedAt === 'number') return op.value.changedAt;
    if (op.op === 'replace' && op.path.endsWith('/changedAt')) return op.value as number;
  }
  return undefined;
}

async function fanout(): Promise<void> {
  const latencies: number[] = [];
  const lastSeq: number[] = [];
  let waitingFor = Number.POSITIVE_INFINITY;
  let ready = 0;
  const sockets: WebSocket[] = [];
  const checkDone = () => {
    if (lastSeq.every((seq) => seq >= waitingFor)) {
      send({
        type: 'result',
        p50: percentile(latencies, 50),
        p99: percentile(latencies, 99),
        max: percentile(latencies, 100),
        delivered: latencies.length,
      });
      for (const ws of sockets) ws.terminate();
      process.exit(0);
    }
  };
  for (let i = 0; i < count; i++) {
    const ws = new WebSocket(`${url}/ws`);
    sockets.push(ws);
    lastSeq.push(0);
    ws.on('open', () => ws.send(JSON.stringify({ type: 'subscribe', topics: ['sessions'] })));
    ws.on('message', (data) => {
      const message = JSON.parse(String(data)) as ServerMessage;
      if (message.type === 'snapshot') {
        lastSeq[i] = message.seq;
        if (++ready === count) send({ type: 'ready' });
      } else if (message.type === 'delta') {
        const stamp = changedAt(message);
        if (stamp !== undefined) latencies.push(wallNow() - stamp);
        lastSeq[i] = message.seq;
        if (message.seq >= waitingFor) checkDone();
      }
    });
    // Open the sockets in small batches so the accept queue never overflows.
    if (i % 50 === 49) await new Promise((resolve) => setTimeout(resolve, 5));
  }
  process.on('message', (message: { type: string; seq: number }) => {
    if (message.type !== 'done') return;
    waitingFor = message.seq;
    checkDone();
  });
}

async function idle(): Promise<void> {
  const sessions = Number(sessionsText);
  const clients: LivestreamClient[] = [];
  let ready = 0;
  for (let i = 0; i < count; i++) {
    const client = new LivestreamClient({ url: `${url}/ws` });
    const id = `quiet-${i % sessions}`;
    client.subscribe(`session:${id}`);
    client.subscribe(`logs:${id}`);
    let counted = false;
    client.on(() => {
      if (counted || !client.topic(`logs:${id}`) || !client.topic(`session:${id}`)) return;
      counted = true;
      if (++ready === count) send({ type: 'ready' });
    });
    client.connect();
    clients.push(client);
  }
  process.on('message', (message: { type: string }) => {
    if (message.type !== 'done') return;
    const reconnects = clients.reduce((n, c) => n + (c.getState().status === 'live' ? 0 : 1), 0);
    send({ type: 'result', notLive: reconnects });
    for (const client of clients) client.close();
    process.exit(0);
  });
}

if (mode === 'fanout') await fanout();
else if (mode === 'idle') await idle();
else {
  process.stderr.write('usage: protocol-clients.ts fanout|idle <url> <n> [sessions]\n');
  process.exit(2);
}
