import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Hub } from '../../hub/types.ts';
import { MAX_CLIENT_MESSAGE_BYTES } from '../../shared/protocol.ts';
import { closeReason, connectionRefusal, TRY_AGAIN_LATER_CLOSE } from '../connections.ts';
import { type CompressionGate, compressionGate, perMessageDeflateOptions } from './compression.ts';
import {
  type ClientLimits,
  ProtocolConnection as Connection,
  type ConnectionContext,
  DEFAULT_CLIENT_LIMITS,
  type ProtocolConnection,
} from './connection.ts';
import { Heartbeat } from './heartbeat.ts';
import { originGuard } from './origin.ts';
import { type WsStats, wsStats } from './stats.ts';

export { CompressionGate, compressionGate } from './compression.ts';
export type { ClientLimits } from './connection.ts';
export { DEFAULT_CLIENT_LIMITS, SLOW_CONSUMER_CLOSE } from './connection.ts';
export { WsStats, wsStats } from './stats.ts';

export const DEFAULT_HEARTBEAT_MS = 30_000;

/** Close code sent to clients when the server shuts down (they reconnect). */
export const GOING_AWAY_CLOSE = 1001;

/** Options for `@fastify/websocket` that the protocol relies on (both endpoints). */
export const websocketServerOptions = {
  maxPayload: MAX_CLIENT_MESSAGE_BYTES,
  perMessageDeflate: perMessageDeflateOptions,
};

export interface ProtocolOptions {
  hub: Hub;
  /** Browser origins allowed besides the server's own (`*` for any). */
  allowedOrigins?: string[];
  heartbeatMs?: number;
  limits?: Partial<ClientLimits>;
  logger?: FastifyBaseLogger;
  /** Counters to update; the process-wide `wsStats` by default. */
  stats?: WsStats;
  /** Compressions in flight for all clients; the process-wide `compressionGate` by default. */
  compression?: CompressionGate;
  /** Loads topics kept out of memory before they are sent (see `ConnectionContext.warm`). */
  warm?: ConnectionContext['warm'];
}

/**
 * `WS /ws`: the real-time protocol (see docs/protocol.md). Register after
 * `@fastify/websocket`. Clients subscribe to topics, get a snapshot of each
 * and then only deltas; they resume after a reconnect from the hub's replay
 * buffer. Slow readers are coalesced and, if they stay stuck, closed (4008).
 */
export async function protocolRoutes(app: FastifyInstance, opts: ProtocolOptions): Promise<void> {
  const limits: ClientLimits = { ...DEFAULT_CLIENT_LIMITS, ...opts.limits };
  const heartbeatMs = opts.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  const stats = opts.stats ?? wsStats;
  const log = opts.logger ?? app.log;
  const connections = new Set<ProtocolConnection>();
  const heartbeat = new Heartbeat(heartbeatMs);

  // Clients only send small control messages; never buffer more than that.
  const serverOptions = app.websocketServer.options;
  if ((serverOptions.maxPayload ?? Number.POSITIVE_INFINITY) > MAX_CLIENT_MESSAGE_BYTES) {
    serverOptions.maxPayload = MAX_CLIENT_MESSAGE_BYTES;
  }

  // Slow clients are watched on a timer that runs only while there are some.
  const slow = new Set<ProtocolConnection>();
  let drainTimer: NodeJS.Timeout | null = null;
  const checkSlow = () => {
    const now = Date.now();
    for (const connection of slow) if (connection.checkSlow(now)) slow.delete(connection);
    if (slow.size === 0 && drainTimer !== null) {
      clearInterval(drainTimer);
      drainTimer = null;
    }
  };
  const onSlow = (connection: ProtocolConnection) => {
    slow.add(connection);
    if (drainTimer === null) {
      drainTimer = setInterval(checkSlow, limits.drainCheckMs);
      drainTimer.unref();
    }
  };

  app.addHook('preClose', async () => {
    for (const connection of connections) {
      connection.dispose();
      connection.ws.close(GOING_AWAY_CLOSE, 'server shutting down');
    }
  });
  app.addHook('onClose', async () => {
    heartbeat.stop();
    if (drainTimer !== null) clearInterval(drainTimer);
  });

  app.get(
    '/ws',
    { websocket: true, onRequest: originGuard(opts.allowedOrigins ?? []) },
    (socket, request) => {
      const refusal = connectionRefusal(request);
      if (refusal !== null) {
        socket.close(TRY_AGAIN_LATER_CLOSE, closeReason(refusal));
        return;
      }
      const connection = new Connection(socket, {
        hub: opts.hub,
        limits,
        stats,
        heartbeatMs,
        log,
        compression: opts.compression ?? compressionGate,
        onSlow,
        warm: opts.warm ?? (() => null),
      });
      connections.add(connection);
      heartbeat.add(socket);
      stats.clients++;
      socket.once('close', () => {
        connections.delete(connection);
        slow.delete(connection);
        stats.clients--;
      });
    },
  );
}
