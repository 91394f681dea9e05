import type { FastifyInstance } from 'fastify';
import { PROMETHEUS_CONTENT_TYPE, type Telemetry } from '../../telemetry.ts';
import { committed, heldFor } from '../durable.ts';
import { sendError } from '../errors.ts';
import { badRequest, sessionIdParams } from '../params.ts';
import type { HealthQuery, MetricsQueries, SessionQueries } from '../queries.ts';

export interface MetricsRoutesOptions {
  metrics: MetricsQueries;
  sessions: Pick<SessionQueries, 'get' | 'keyFor'>;
  telemetry: Telemetry;
  /** Whether history is being saved; writes are acknowledged once committed. */
  store: HealthQuery;
  /** What an acknowledgement waits for beyond the store (a shared bus's log). */
  committed?: () => Promise<void>;
}

/**
 * Enhanced metrics, analytics, agent updates, broadcasts (formats.md §4) and
 * the Prometheus scrape endpoint.
 */
export async function metricsRoutes(
  app: FastifyInstance,
  opts: MetricsRoutesOptions,
): Promise<void> {
  const { metrics, sessions, telemetry, store } = opts;
  const agentUpdates = telemetry.counter(
    'livestream_agent_updates_total',
    'Agent updates received',
  );
  const broadcasts = telemetry.counter(
    'livestream_broadcasts_total',
    'Events broadcast to sessions',
  );

  // An input for a session not known yet is held in memory, not stored; the
  // rest is acknowledged once committed, so a crash after the answer keeps it.
  const durability = (key: unknown, sessionId: string) =>
    key === null ? Promise.resolve(heldFor(sessionId)) : committed(store, opts.committed);

  app.get('/api/metrics/:id', async (request, reply) => {
    const params = sessionIdParams.safeParse(request.params);
    if (!params.success) return badRequest(reply, 'session id', params.error);
    const id = params.data.id;
    const key = sessions.get(id) ? id : sessions.keyFor(id);
    const found = key === null ? null : metrics.get(key);
    if (!found) {
      return sendError(
        reply,
        404,
        'not_found',
        `No session '${id}'. GET /api/sessions lists them.`,
      );
    }
    return found;
  });

  app.get('/api/analytics', async () => metrics.analytics());

  app.post('/api/agent-update', async (request, reply) => {
    const result = metrics.agentUpdate(request.body, Date.now());
    if (!result.ok) return sendError(reply, 400, result.error, result.message);
    agentUpdates.inc();
    const { ok: _ok, ...answer } = result;
    return { ...answer, ...(await durability(result.key, String(result.session_id))) };
  });

  app.post('/api/broadcast/:id', async (request, reply) => {
    const params = sessionIdParams.safeParse(request.params);
    if (!params.success) return badRequest(reply, 'session id', params.error);
    const result = metrics.broadcast(params.data.id, request.body, Date.now());
    if (!result.ok) {
      return sendError(
        reply,
        result.error === 'too_large' ? 413 : 400,
        result.error,
        result.message,
      );
    }
    broadcasts.inc();
    const { ok: _ok, ...answer } = result;
    return { ...answer, ...(await durability(result.key, params.data.id)) };
  });

  app.get('/metrics', async (_request, reply) => {
    reply.type(PROMETHEUS_CONTENT_TYPE);
    return telemetry.render();
  });
}
