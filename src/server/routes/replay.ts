import type { FastifyInstance } from 'fastify';
import { historyTransitions, testsByTime } from '../../core/replay/history.ts';
import type { SessionDetail } from '../../shared/model.ts';
import { frameAt, type ReplayFrame, type SessionHistory } from '../../shared/replay.ts';
import type { AlertStore } from '../../store/alert-store.ts';
import type { LogStore, MetricsStore, SessionStore } from '../../store/types.ts';
import { sendError } from '../errors.ts';
import { badRequest, sessionIdParams } from '../params.ts';

export interface ReplaySources {
  session: (id: string) => SessionDetail | null;
  /** The session's cost so far in USD when it carries one. */
  costUsd: (id: string) => number | null;
  store: Pick<SessionStore, 'transitions'> &
    Pick<MetricsStore, 'tokenPoints' | 'testIterations'> &
    Pick<LogStore, 'logLines'>;
  alerts: Pick<AlertStore, 'alerts' | 'alertEvents'>;
}

/** A session's whole stored history, in time order; null for an unknown session. */
export async function loadHistory(src: ReplaySources, id: string): Promise<SessionHistory | null> {
  const detail = src.session(id);
  if (!detail) return null;
  const [transitions, tokens, tests, logs, alerts, alertEvents] = await Promise.all([
    src.store.transitions(id),
    src.store.tokenPoints(id),
    src.store.testIterations(id),
    src.store.logLines(id),
    src.alerts.alerts({ sessionId: id, limit: 1000 }),
    src.alerts.alertEvents(id),
  ]);
  return {
    sessionId: id,
    status: detail.status,
    transitions: historyTransitions(transitions),
    tokens: [...tokens].sort((a, b) => a.at - b.at),
    tests: testsByTime(tests),
    logs,
    alerts: alerts.sort((a, b) => a.raisedAt - b.raisedAt),
    alertEvents,
    costUsd: src.costUsd(id),
  };
}

/** The dashboard of session `id` at `at`; null for an unknown session. */
export async function replayFrame(
  src: ReplaySources,
  id: string,
  at: number,
): Promise<ReplayFrame | null> {
  const history = await loadHistory(src, id);
  return history ? frameAt(history, at) : null;
}

/** `GET /api/history/:id`: what the session page's timeline slider replays. */
export async function replayRoutes(app: FastifyInstance, opts: { sources: ReplaySources }) {
  app.get('/api/history/:id', async (request, reply) => {
    const params = sessionIdParams.safeParse(request.params);
    if (!params.success) return badRequest(reply, 'session id', params.error);
    const history = await loadHistory(opts.sources, params.data.id);
    if (!history) {
      return sendError(
        reply,
        404,
        'not_found',
        `No session '${params.data.id}'. GET /api/sessions lists them.`,
      );
    }
    return history;
  });
}
