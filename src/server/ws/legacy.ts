import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import type { Hub } from '../../hub/types.ts';
import { type LegacyStatus, toLegacyStatus } from '../../shared/legacy.ts';
import type { LogLine, SessionDetail } from '../../shared/model.ts';
import type { DeltaMessage, LegacyMessage } from '../../shared/protocol.ts';
import { topic } from '../../shared/topics.ts';
import { closeReason, connectionRefusal, TRY_AGAIN_LATER_CLOSE } from '../connections.ts';
import { encode } from '../encode.ts';
import { type CompressionGate, compressionGate } from './compression.ts';
import { SLOW_CONSUMER_CLOSE } from './connection.ts';
import { Heartbeat } from './heartbeat.ts';
import { originGuard } from './origin.ts';
import { DEFAULT_HEARTBEAT_MS, GOING_AWAY_CLOSE } from './protocol.ts';
import { type WsStats, wsStats } from './stats.ts';

export interface LegacyOptions {
  hub: Hub;
  allowedOrigins?: string[];
  heartbeatMs?: number;
  /** A legacy client with more unsent bytes than this is closed (4008). */
  maxBufferedBytes?: number;
  stats?: WsStats;
  /** Compressions in flight, shared with `WS /ws`; the process-wide gate by default. */
  compression?: CompressionGate;
  /** Number of a session's newest log line when its log is not in memory. */
  lastLogLine?: (id: string) => number | null;
}

const COMPLETE_MESSAGE = 'Session completed!';

function legacyStatus(hub: Hub, id: string): LegacyStatus | null {
  const detail = hub.get(topic('session', id))?.data as SessionDetail | null | undefined;
  return detail?.status ? toLegacyStatus(detail.status) : null;
}

function lineText(item: unknown): string {
  if (typeof item === 'string') return item;
  const text = (item as Partial<LogLine> | null)?.text;
  return typeof text === 'string' ? text : JSON.stringify(item);
}

/**
 * `WS /ws/:id`, the seed's per-session contract, served from the hub:
 * `{"type":"status","data":…}` on connect and whenever the legacy status
 * changes, `{"type":"complete",…}` once each time the session becomes
 * completed, `{"type":"log","data":"line"}` per new log line. All pushed from
 * the hub's deltas, no polling. An unknown session gets `data: null` and the
 * socket stays open: its status follows as soon as the build appears.
 */
export async function legacyRoutes(app: FastifyInstance, opts: LegacyOptions): Promise<void> {
  const { hub } = opts;
  const stats = opts.stats ?? wsStats;
  const compression = opts.compression ?? compressionGate;
  const maxBuffered = opts.maxBufferedBytes ?? 1024 * 1024;
  const heartbeat = new Heartbeat(opts.heartbeatMs ?? DEFAULT_HEARTBEAT_MS);
  const sockets = new Set<WebSocket>();

  app.addHook('preClose', async () => {
    for (const ws of sockets) ws.close(GOING_AWAY_CLOSE, 'server shutting down');
  });
  app.addHook('onClose', async () => heartbeat.stop());

  app.get<{ Params: { id: string } }>(
    '/ws/:id',
    { websocket: true, onRequest: originGuard(opts.allowedOrigins ?? []) },
    (ws, request) => {
      const refusal = connectionRefusal(request);
      if (refusal !== null) {
        ws.close(TRY_AGAIN_LATER_CLOSE, closeReason(refusal));
        return;
      }
      const id = request.params.id;
      const send = (message: LegacyMessage) => {
        if (ws.readyState !== ws.OPEN) return;
        const text = encode(message);
        if (ws.bufferedAmount + text.length > maxBuffered) {
          stats.slowConsumerCloses++;
          ws.close(SLOW_CONSUMER_CLOSE, 'slow consumer: send buffer over limit');
          return;
        }
        const bytes = Buffer.byteLength(text);
        const compress = compression.send(ws, text, bytes);
        stats.bytesSent += bytes;
        stats.messagesSent++;
        if (compress) stats.compressedMessages++;
      };

      let status = legacyStatus(hub, id);
      let lastJson = JSON.stringify(status);
      let completed = status?.is_complete === true;
      send({ type: 'status', data: status });
      if (completed) send({ type: 'complete', message: COMPLETE_MESSAGE });

      const lines = (hub.get(topic('logs', id))?.data as { lines?: LogLine[] } | null)?.lines;
      // Lines from before the connection are never sent, loaded later or not.
      let lastLine = lines?.at(-1)?.n ?? opts.lastLogLine?.(id) ?? -1;

      const onSession = () => {
        status = legacyStatus(hub, id);
        const json = JSON.stringify(status);
        if (json === lastJson) return;
        lastJson = json;
        send({ type: 'status', data: status });
        const nowComplete = status?.is_complete === true;
        if (nowComplete && !completed) send({ type: 'complete', message: COMPLETE_MESSAGE });
        completed = nowComplete;
      };
      const onLogs = (delta: DeltaMessage) => {
        if (delta.op === 'append') {
          for (const item of delta.items) send({ type: 'log', data: lineText(item) });
          const last = (delta.items.at(-1) as Partial<LogLine> | undefined)?.n;
          if (typeof last === 'number') lastLine = last;
          return;
        }
        // A whole new log state (set or re-created topic): send lines not seen yet.
        const now = (hub.get(topic('logs', id))?.data as { lines?: LogLine[] } | null)?.lines ?? [];
        for (const line of now) {
          if (typeof line.n === 'number' && line.n <= lastLine) continue;
          send({ type: 'log', data: lineText(line) });
          if (typeof line.n === 'number') lastLine = line.n;
        }
      };

      const offSession = hub.fanout.subscribe(topic('session', id), onSession);
      const offLogs = hub.fanout.subscribe(topic('logs', id), onLogs);
      sockets.add(ws);
      heartbeat.add(ws);
      stats.legacyClients++;
      ws.once('close', () => {
        offSession();
        offLogs();
        sockets.delete(ws);
        stats.legacyClients--;
      });
    },
  );
}
