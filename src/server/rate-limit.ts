import { timingSafeEqual } from 'node:crypto';
import fastifyRateLimit, { normalizeIP } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { FORWARDER_HEADER, REPLICA_HEADER } from '../shared/forward.ts';
import { FORWARD_PATH } from './routes/forward.ts';

/** POSTs one client address may make per window: an orchestrator pushes a few a second. */
export const POST_LIMIT = { max: 200, windowMs: 4000 } as const;

/**
 * Batches one forwarder may post per window. A forwarder has one batch in
 * flight at a time, so only a broken one comes near this; what it must not
 * do is share the address's budget: twenty machines behind one NAT (or on
 * one test box) would otherwise hit 429 together and stall for the window.
 */
export const FORWARD_LIMIT = { max: 2000, windowMs: POST_LIMIT.windowMs } as const;

/** Whether `request` comes from a follower replica of this deployment (see `REPLICA_HEADER`). */
function fromReplica(request: FastifyRequest, replicaKey: Buffer | null): boolean {
  const presented = request.headers[REPLICA_HEADER];
  if (replicaKey === null || typeof presented !== 'string') return false;
  const given = Buffer.from(presented);
  return given.length === replicaKey.length && timingSafeEqual(given, replicaKey);
}

/**
 * Limits the POST endpoints per client address with Fastify's rate-limit
 * plugin: a flood gets 429 (standard error body, `Retry-After`) and the server
 * stays responsive for everyone else; GETs (dashboards, polling) are not
 * counted. Addresses tracked are bounded by the plugin's LRU cache.
 *
 * Forward batches count per forwarder (its id header) and address. Requests a
 * follower replica passes on (with the deployment's replica key) are not
 * counted again: the follower limited them by their own address already, and
 * here they would all share the follower's.
 */
export async function installRateLimit(
  app: FastifyInstance,
  opts: { replicaKey?: string | null } = {},
): Promise<void> {
  const replicaKey = opts.replicaKey ? Buffer.from(opts.replicaKey) : null;
  const forwardKey = (request: FastifyRequest): string | null => {
    if (request.url.split('?')[0] !== FORWARD_PATH) return null;
    const id = request.headers[FORWARDER_HEADER];
    return typeof id === 'string' ? id.slice(0, 128) : '';
  };
  await app.register(fastifyRateLimit, {
    max: (request) => (forwardKey(request) === null ? POST_LIMIT.max : FORWARD_LIMIT.max),
    timeWindow: POST_LIMIT.windowMs,
    cache: 10_000,
    allowList: (request) => request.method !== 'POST' || fromReplica(request, replicaKey),
    keyGenerator: (request) => {
      // As the plugin's own key: an IPv6 client is its /64, not one of its many addresses.
      const address = normalizeIP(request.ip);
      const forwarder = forwardKey(request);
      return forwarder === null ? address : `${address} forward ${forwarder}`;
    },
    // Thrown to the error handler, which answers `{ error: 'rate_limited', message }`.
    errorResponseBuilder: (_request, context) => ({
      statusCode: 429,
      message: `Too many requests; slow down and retry in ${Math.ceil(context.ttl / 1000)} s.`,
    }),
  });
}
