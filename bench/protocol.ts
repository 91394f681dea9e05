import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { connect, type NetConnectOpts, type Socket } from 'node:net';
import { setTimeout as sleep, setImmediate as tick } from 'node:timers/promises';
import { pino } from 'pino';
import WebSocket, { WebSocketServer } from 'ws';
import { buildScript, type DemoStep, phaseDocument } from '../src/demo/index.ts';
import { LogBook } from '../src/hub/logbook.ts';
import { SessionEngine } from '../src/hub/session-engine.ts';
import { toLegacyStatus } from '../src/shared/legacy.ts';
import type { ServerMessage } from '../src/shared/protocol.ts';
import { SqliteStore } from '../src/store/sqlite-store.ts';
import { startTestServer } from '../test/helpers/ws-server.ts';
import { printTable } from './stats.ts';

const quick = process.argv.includes('--quick');

/**
 * A client whose received bytes are counted on the wire: everything read from
 * its TCP socket after the HTTP upgrade response, i.e. frame headers plus
 * payloads as sent (compressed when permessage-deflate was negotiated).
 */
function meteredClient(url: string) {
  let socket: Socket | undefined;
  let handshake = 0;
  const counter = { messages: 0, lastSeq: 0, bytes: () => (socket?.bytesRead ?? 0) - handshake };
  const ws = new WebSocket(url, {
    createConnection: (opts: object) => {
      socket = connect(opts as NetConnectOpts);
      return socket;
    },
  });
  ws.on('upgrade', (res) => {
    // The 101 response as ws wrote it: status line, one line per header, blank line.
    let n = `HTTP/${res.httpVersion} ${res.statusCode} ${res.statusMessage}\r\n`.length + 2;
    for (let i = 0; i < res.rawHeaders.length; i += 2)
      n += `${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}\r\n`.length;
    handshake = n;
  });
  ws.on('message', (data) => {
    counter.messages++;
    const message = JSON.parse(String(data)) as ServerMessage;
    if ('seq' in message && message.type !== 'welcome') counter.lastSeq = message.seq;
  });
  return { ws, counter };
}

/**
 * 1. Ten clients watching a 10-minute build (time-compressed): the demo
 * generator's script, spread over 600 simulated seconds, pushed through the
 * real session engine. Ours: `WS /ws` subscribed to `session:<id>` (status and
 * timeline). The baseline, measured in the same run on a plain `ws` server:
 * the seed's behaviour, the full status JSON every second to each client.
 */
async function bytesOnTheWire(): Promise<Record<string, number>> {
  const CLIENTS = 10;
  const SECONDS = 600;
  const id = 'weather-app';
  const server = await startTestServer();
  const store = SqliteStore.open(':memory:', { logger: pino({ level: 'silent' }) });
  const sessions = new SessionEngine({
    hub: server.hub,
    store,
    logs: new LogBook(server.hub),
    logger: pino({ level: 'silent' }),
  });
  const naive = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await once(naive, 'listening');
  const naivePort = (naive.address() as { port: number }).port;
  try {
    // Both sides offer permessage-deflate, as browsers do; only ours accepts it.
    const ours = await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        const client = meteredClient(`${server.url}/ws`);
        await once(client.ws, 'open');
        client.ws.send(JSON.stringify({ type: 'subscribe', topics: [`session:${id}`] }));
        return client;
      }),
    );
    const naiveClients = await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        const client = meteredClient(`ws://127.0.0.1:${naivePort}`);
        await once(client.ws, 'open');
        return client;
      }),
    );
    const t0 = Date.UTC(2025, 0, 13, 0, 30);
    const script = buildScript(id);
    const project = { sessionId: id, startedAt: t0, completed: [] as string[] };
    let next = 0;
    for (let s = 0; s < SECONDS; s++) {
      const now = t0 + s * 1000;
      while (next < script.length && Math.floor((next * SECONDS) / script.length) <= s) {
        const step = script[next] as DemoStep;
        const previous = script[next - 1];
        if (previous && previous.phase !== step.phase) project.completed.push(previous.phase);
        sessions.ingestPush(phaseDocument(project, step, now), now);
        next++;
      }
      const status = sessions.get(id)?.status;
      const message = JSON.stringify({
        type: 'status',
        data: status ? toLegacyStatus(status) : null,
      });
      for (const client of naive.clients) client.send(message);
      await tick();
    }
    // Other topics (sessions, logs) move the hub's seq too: wait for this topic's last change.
    const finalSeq = server.hub.get(`session:${id}`)?.seq ?? 0;
    while (ours.some((c) => c.counter.lastSeq < finalSeq)) await sleep(5);
    while (naiveClients.some((c) => c.counter.messages < SECONDS)) await sleep(5);
    const oursBytes = ours.reduce((n, c) => n + c.counter.bytes(), 0);
    const naiveBytes = naiveClients.reduce((n, c) => n + c.counter.bytes(), 0);
    for (const c of [...ours, ...naiveClients]) c.ws.terminate();
    return {
      'bytes: script steps': script.length,
      'bytes: ours, 10 clients': oursBytes,
      'bytes: naive, 10 clients': naiveBytes,
      'bytes: reduction %': (1 - oursBytes / naiveBytes) * 100,
      'messages per client: ours': ours[0]?.counter.messages ?? 0,
      'messages per client: naive': naiveClients[0]?.counter.messages ?? 0,
    };
  } finally {
    sessions.close();
    await store.close();
    naive.close();
    await server.close();
  }
}

function child(args: string[]): ChildProcess {
  return fork(new URL('./protocol-clients.ts', import.meta.url), args, {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

function nextMessage<T>(proc: ChildProcess, type: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: { type: string }) => {
      if (message.type !== type) return;
      proc.off('message', onMessage);
      resolve(message as T);
    };
    proc.on('message', onMessage);
    proc.once('exit', (code) => reject(new Error(`client process exited (${code})`)));
  });
}

/** 2. 1,000 clients on `sessions`, 50 updates/s for 10 s: delivery latency. */
async function fanout(): Promise<Record<string, number>> {
  const CLIENTS = 1_000;
  const RATE = 50;
  const SECONDS = quick ? 4 : 10;
  const server = await startTestServer();
  const sessions: Record<string, unknown> = {};
  for (let i = 0; i < 20; i++)
    sessions[`s${i}`] = { id: `s${i}`, progressDetail: '', changedAt: 0 };
  server.hub.set('sessions', { sessions });
  const clients = child(['fanout', server.url, String(CLIENTS)]);
  try {
    await nextMessage(clients, 'ready');
    const start = performance.now();
    const cpuBefore = process.cpuUsage();
    for (let k = 0; k < RATE * SECONDS; k++) {
      const due = start + (k * 1000) / RATE;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      const key = `s${k % 20}`;
      const next = {
        ...(server.hub.get('sessions')?.data as { sessions: Record<string, object> }),
      };
      next.sessions = {
        ...next.sessions,
        [key]: {
          id: key,
          progressDetail: `update ${k}`,
          changedAt: performance.timeOrigin + performance.now(),
        },
      };
      server.hub.set('sessions', next);
    }
    const result = nextMessage<{ p50: number; p99: number; max: number; delivered: number }>(
      clients,
      'result',
    );
    clients.send({ type: 'done', seq: server.hub.seq });
    const { p50, p99, max, delivered } = await result;
    const cpu = process.cpuUsage(cpuBefore);
    const wall = performance.now() - start;
    return {
      'fanout: clients': CLIENTS,
      'fanout: updates/s': RATE,
      'fanout: messages delivered': delivered,
      'fanout: p50 latency ms': p50,
      'fanout: p99 latency ms': p99,
      'fanout: max latency ms': max,
      'fanout: server CPU % of a core': ((cpu.user + cpu.system) / 1000 / wall) * 100,
    };
  } finally {
    clients.kill();
    await server.close();
  }
}

/** 3. 100 clients on 50 quiet sessions: server CPU and what it sends while nothing changes. */
async function idle(): Promise<Record<string, number>> {
  const CLIENTS = 100;
  const SESSIONS = 50;
  const SECONDS = quick ? 10 : 60;
  const server = await startTestServer();
  for (let i = 0; i < SESSIONS; i++) {
    server.hub.set(`session:quiet-${i}`, { status: { id: `quiet-${i}`, currentPhase: 'Builder' } });
    server.hub.append(`logs:quiet-${i}`, [{ n: 0, at: 0, level: 'info', text: 'waiting' }], 500);
  }
  const clients = child(['idle', server.url, String(CLIENTS), String(SESSIONS)]);
  try {
    await nextMessage(clients, 'ready');
    const sentBefore = { ...server.stats.toJSON() };
    const cpuBefore = process.cpuUsage();
    const start = performance.now();
    await sleep(SECONDS * 1000);
    const cpu = process.cpuUsage(cpuBefore);
    const wall = performance.now() - start;
    const after = server.stats.toJSON();
    const result = nextMessage<{ notLive: number }>(clients, 'result');
    clients.send({ type: 'done' });
    const { notLive } = await result;
    return {
      'idle: clients': CLIENTS,
      'idle: seconds': SECONDS,
      'idle: server CPU % of a core': ((cpu.user + cpu.system) / 1000 / wall) * 100,
      'idle: messages sent': (after.messagesSent ?? 0) - (sentBefore.messagesSent ?? 0),
      'idle: bytes sent': (after.bytesSent ?? 0) - (sentBefore.bytesSent ?? 0),
      'idle: clients not live': notLive,
    };
  } finally {
    clients.kill();
    await server.close();
  }
}

/** Runs the three protocol benchmarks; `--quick` shortens the idle and fan-out windows. */
export async function run(): Promise<Record<string, number>> {
  const figures = { ...(await bytesOnTheWire()), ...(await fanout()), ...(await idle()) };
  printTable('Protocol', figures);
  return figures;
}

if (import.meta.main) await run();
