import fastifyRateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';

/** POSTs one client address may make per window: an orchestrator pushes a few a second. */
export const POST_LIMIT = { max: 200, windowMs: 4000 } as const;

/**
 * Limits the POST endpoints per client address with Fastify's rate-limit
 * plugin: a flood gets 429 (standard error body, `Retry-After`) and the server
 * stays responsive for everyone else; GETs (dashboards, polling) are not
 * counted. Addresses tracked are bounded by the plugin's LRU cache.
 */
export async function installRateLimit(app: FastifyInstance): Promise<void> {
  await app.register(fastifyRateLimit, {
    max: POST_LIMIT.max,
    timeWindow: POST_LIMIT.windowMs,
    cache: 10_000,
    allowList: (request) => request.method !== 'POST',
    // Thrown to the error handler, which answers `{ error: 'rate_limited', message }`.
    errorResponseBuilder: (_request, context) => ({
      statusCode: 429,
      message: `Too many requests; slow down and retry in ${Math.ceil(context.ttl / 1000)} s.`,
    }),
  });
}
