import fastifyWebsocket from '@fastify/websocket';
import Fastify, { type FastifyInstance } from 'fastify';
import { WebSocket } from 'ws';
import { InProcessBus } from '../../src/hub/fanout.ts';
import { MemoryHub } from '../../src/hub/hub.ts';
import { wireCodec } from '../../src/server/encode.ts';
import { CompressionGate } from '../../src/server/ws/compression.ts';
import { legacyRoutes } from '../../src/server/ws/legacy.ts';
import {
  type ProtocolOptions,
  protocolRoutes,
  websocketServerOptions,
} from '../../src/server/ws/protocol.ts';
import { WsStats } from '../../src/server/ws/stats.ts';
import type { ServerMessage } from '../../src/shared/protocol.ts';

/** A real Fastify server with both WebSocket endpoints on 127.0.0.1, port 0 (tests, benchmarks). */
export interface TestServer {
  app: FastifyInstance;
  hub: MemoryHub;
  stats: WsStats;
  /** This server's own compression gate (both endpoints). */
  compression: CompressionGate;
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startTestServer(
  options: Partial<Omit<ProtocolOptions, 'stats'>> & {
    port?: number;
    /** `ws` server options; they override the protocol's (e.g. `perMessageDeflate: false`). */
    wsOptions?: Record<string, unknown>;
    /** Compressions in flight at once (the default gate's cap unless given). */
    maxCompressing?: number;
  } = {},
): Promise<TestServer> {
  const hub =
    (options.hub as MemoryHub | undefined) ??
    new MemoryHub({ bus: new InProcessBus({ codec: wireCodec }) });
  const stats = new WsStats();
  const compression = new CompressionGate(options.maxCompressing);
  const app = Fastify({ logger: false, forceCloseConnections: true });
  await app.register(fastifyWebsocket, {
    options: { ...websocketServerOptions, ...options.wsOptions },
  });
  await app.register(protocolRoutes, { ...options, hub, stats, compression });
  await app.register(legacyRoutes, {
    hub,
    stats,
    compression,
    allowedOrigins: options.allowedOrigins ?? [],
    ...(options.heartbeatMs ? { heartbeatMs: options.heartbeatMs } : {}),
  });
  await app.listen({ host: '127.0.0.1', port: options.port ?? 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    app,
    hub,
    stats,
    compression,
    port,
    url: `ws://127.0.0.1:${port}`,
    close: () => app.close(),
  };
}

/** A raw `ws` client that records what it receives and lets a test await a message. */
export class RawClient {
  readonly ws: WebSocket;
  readonly received: ServerMessage[] = [];
  readonly #waiters: {
    match: (m: ServerMessage) => boolean;
    resolve: (m: ServerMessage) => void;
  }[] = [];
  #cursor = 0;

  constructor(url: string, options: ConstructorParameters<typeof WebSocket>[2] = {}) {
    this.ws = new WebSocket(url, options);
    this.ws.on('message', (data) => {
      const message = JSON.parse(String(data)) as ServerMessage;
      this.received.push(message);
      for (const waiter of [...this.#waiters]) {
        if (waiter.match(message)) {
          this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
          waiter.resolve(message);
        }
      }
    });
  }

  opened(): Promise<void> {
    if (this.ws.readyState === WebSocket.OPEN) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
  }

  send(message: unknown): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** The next message (after those already awaited) matching `match`. */
  next<T extends ServerMessage = ServerMessage>(match: (m: ServerMessage) => boolean): Promise<T> {
    for (let i = this.#cursor; i < this.received.length; i++) {
      const message = this.received[i] as ServerMessage;
      if (match(message)) {
        this.#cursor = i + 1;
        return Promise.resolve(message as T);
      }
    }
    return new Promise((resolve) => {
      this.#waiters.push({
        match,
        resolve: (m) => {
          this.#cursor = this.received.length;
          resolve(m as T);
        },
      });
    });
  }

  closed(): Promise<{ code: number; reason: string }> {
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve({ code: 0, reason: '' });
    return new Promise((resolve) =>
      this.ws.once('close', (code, reason) => resolve({ code, reason: String(reason) })),
    );
  }

  close(): void {
    this.ws.terminate();
  }
}
