import { readFileSync } from 'node:fs';
import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { sendError } from './errors.ts';

/** Limits on the TCP connections the server holds (`serve --max-connections…`, `--idle-timeout`). */
export interface ConnectionLimits {
  /** Open connections in all (HTTP keep-alive and WebSockets alike). */
  maxTotal: number;
  /** Open connections from one remote address. */
  maxPerAddress: number;
  /**
   * How long a connection may stay open before its first request's headers
   * are in, and how long a request's body may take after its headers.
   */
  idleMs: number;
}

/** Close code for a WebSocket refused for a full connection table ("try again later"). */
export const TRY_AGAIN_LATER_CLOSE = 1013;

/**
 * Refused connections are held this long to be told why (an HTTP answer, a
 * WebSocket close with a reason); past `REFUSAL_SLOTS` of them at once they
 * are dropped without a word, so a flood cannot hold descriptors that way.
 */
const REFUSAL_MS = 2000;
const REFUSAL_SLOTS = 64;
const REFUSAL_LOG_MS = 10_000;

/**
 * Default total: half the process's open-file limit (sockets are file
 * descriptors; the watcher, the database and file reads need the rest), at
 * most 1,000. Per address: a quarter of it, so one host cannot take them all.
 */
export function defaultConnectionLimits(): ConnectionLimits {
  const maxTotal = Math.min(1000, Math.max(64, Math.floor(openFileLimit() / 2)));
  return { maxTotal, maxPerAddress: Math.max(16, Math.floor(maxTotal / 4)), idleMs: 10_000 };
}

/** The soft RLIMIT_NOFILE, from /proc (Linux); 1024, the usual default, when unknown. */
function openFileLimit(): number {
  try {
    const line = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    const value = Number(line?.[1]);
    return Number.isFinite(value) && value > 0 ? value : 1024;
  } catch {
    return 1024;
  }
}

interface Refusal {
  status: 429 | 503;
  message: string;
}

/** Connections over a cap, by socket, until they are told why and closed. */
const refusals = new WeakMap<Socket, Refusal>();

/**
 * Caps the connections of `app` and times out those that send no request:
 * idle TCP connections (or ones trickling their headers) otherwise hold a
 * file descriptor each until the process can open no file, socket or
 * database page. A connection over a cap is answered, not silently dropped:
 * an HTTP request gets 429 (its address is over its share) or 503 (the
 * server is full) with a JSON message and `Retry-After`; a WebSocket upgrade
 * is accepted and closed at once with 1013 and the same sentence, which a
 * browser can read (it cannot read a refused handshake's status).
 */
export function installConnectionLimits(app: FastifyInstance, limits: ConnectionLimits): void {
  const server: Server = app.server;
  const perAddress = new Map<string, number>();
  let total = 0;
  let refusing = 0;
  /** Refusals since the last log line (one line per `REFUSAL_LOG_MS` at most). */
  let refused = 0;
  let loggedAt = Number.NEGATIVE_INFINITY;
  const idle = new WeakMap<Socket, NodeJS.Timeout>();

  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? 'unknown';
    const mine = perAddress.get(address) ?? 0;
    const refusal: Refusal | null =
      total >= limits.maxTotal
        ? {
            status: 503,
            message: `The server holds its limit of ${limits.maxTotal} connections; retry shortly (see serve --max-connections).`,
          }
        : mine >= limits.maxPerAddress
          ? {
              status: 429,
              message: `Your address holds its limit of ${limits.maxPerAddress} connections; close some and retry (see serve --max-connections-per-address).`,
            }
          : null;
    if (refusal) {
      refused++;
      const now = Date.now();
      if (now - loggedAt >= REFUSAL_LOG_MS) {
        app.log.warn(
          {
            address,
            refused,
            open: total,
            maxTotal: limits.maxTotal,
            maxPerAddress: limits.maxPerAddress,
          },
          'connections refused: a connection limit is reached',
        );
        loggedAt = now;
        refused = 0;
      }
      if (refusing >= REFUSAL_SLOTS) {
        socket.destroy();
        return;
      }
      refusing++;
      refusals.set(socket, refusal);
      const timer = setTimeout(() => socket.destroy(), REFUSAL_MS);
      timer.unref();
      socket.once('close', () => {
        refusing--;
        clearTimeout(timer);
      });
      return;
    }
    total++;
    perAddress.set(address, mine + 1);
    const timer = setTimeout(() => socket.destroy(), limits.idleMs);
    timer.unref();
    idle.set(socket, timer);
    socket.once('close', () => {
      clearTimeout(timer);
      total--;
      const left = (perAddress.get(address) ?? 1) - 1;
      if (left > 0) perAddress.set(address, left);
      else perAddress.delete(address);
    });
  });

  // Both fire once a request's headers are in: the connection is no longer idle.
  const started = (request: IncomingMessage) => {
    const timer = idle.get(request.socket);
    if (timer === undefined) return;
    clearTimeout(timer);
    idle.delete(request.socket);
  };
  server.prependListener('upgrade', started);
  // A body trickled a byte at a time holds the connection as idle ones did:
  // it too must be in within the idle time (1 MiB in 10 s is 100 KB/s).
  server.prependListener('request', (request: IncomingMessage) => {
    started(request);
    const timer = setTimeout(() => {
      if (!request.complete) request.socket.destroy();
    }, limits.idleMs);
    timer.unref();
    request.once('close', () => clearTimeout(timer));
  });

  app.addHook('onRequest', async (request, reply) => {
    const refusal = refusals.get(request.raw.socket);
    if (!refusal) return;
    // A WebSocket upgrade goes on to its route, which closes it with the reason.
    if (request.raw.headers.upgrade) return;
    reply.header('connection', 'close');
    reply.header('retry-after', '5');
    return sendError(
      reply,
      refusal.status,
      refusal.status === 429 ? 'too_many_connections' : 'server_full',
      refusal.message,
    );
  });
}

/** The reason a WebSocket must be closed at once (its connection is over a cap), or null. */
export function connectionRefusal(request: { raw: { socket: Socket } }): string | null {
  return refusals.get(request.raw.socket)?.message ?? null;
}

/** A close reason within the 123 bytes a close frame allows. */
export function closeReason(text: string): string {
  if (Buffer.byteLength(text) <= 123) return text;
  let reason = text.slice(0, 120);
  while (Buffer.byteLength(`${reason}…`) > 123) reason = reason.slice(0, -1);
  return `${reason}…`;
}
