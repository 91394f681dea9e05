import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import {
  DEFAULT_FRAME,
  type FrameSize,
  frameFromWindow,
  spanOf,
  summaryOf,
  transitionsNeeded,
} from '../../core/replay/frame.ts';
import { historyTransitions, testsByTime } from '../../core/replay/history.ts';
import type { SessionDetail } from '../../shared/model.ts';
import type { HistorySummary, ReplayFrame, SessionHistory } from '../../shared/replay.ts';
import type { AlertStore } from '../../store/alert-store.ts';
import type { LogStore, MetricsStore, ReplayStore, SessionStore } from '../../store/types.ts';
import { sendError } from '../errors.ts';
import { badRequest, sessionIdParams } from '../params.ts';

export interface ReplaySources {
  session: (id: string) => SessionDetail | null;
  /** The session's cost so far in USD when it carries one. */
  costUsd: (id: string) => number | null;
  store: Pick<SessionStore, 'transitions'> &
    Pick<MetricsStore, 'tokenPoints' | 'testIterations'> &
    Pick<LogStore, 'logLines'> &
    ReplayStore;
  alerts: Pick<AlertStore, 'alerts' | 'alertEvents'>;
}

/** Slices in the slider's summary unless asked otherwise. */
const SUMMARY_SLICES = 200;

const summaryQuery = z.object({
  slices: z.coerce.number().int().min(1).max(2000).default(SUMMARY_SLICES),
});

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

/**
 * The dashboard of session `id` at `at`; null for an unknown session. Read
 * from indexed store queries (a few hundred rows at most), never by loading
 * the whole history, so scrubbing a 10,000-transition session stays cheap.
 */
export async function replayFrame(
  src: ReplaySources,
  id: string,
  at: number,
  size: FrameSize = DEFAULT_FRAME,
): Promise<ReplayFrame | null> {
  const detail = src.session(id);
  if (!detail) return null;
  const [slice, alerts, alertEvents] = await Promise.all([
    src.store.historyAt(id, at, {
      transitions: transitionsNeeded(size.rows),
      logLines: size.lines,
    }),
    src.alerts.alerts({ sessionId: id, limit: 1000 }),
    src.alerts.alertEvents(id),
  ]);
  const [firstAfter] = slice.firstAfter ? historyTransitions([slice.firstAfter]) : [];
  return frameFromWindow(
    {
      ...slice,
      status: detail.status,
      transitions: historyTransitions(slice.transitions),
      firstAfter: firstAfter ?? null,
      alerts,
      alertEvents,
      costUsd: src.costUsd(id),
    },
    at,
    size,
  );
}

/** The slider's span and coarse timeline; null for an unknown session. */
export async function replaySummary(
  src: ReplaySources,
  id: string,
  slices: number,
): Promise<HistorySummary | null> {
  const detail = src.session(id);
  if (!detail) return null;
  const span = spanOf(detail.status, await src.store.historyBounds(id));
  const buckets = await src.store.transitionBuckets(id, span, slices);
  return summaryOf(detail.status, span, buckets, slices);
}

function notFound(reply: FastifyReply, id: string): FastifyReply {
  return sendError(reply, 404, 'not_found', `No session '${id}'. GET /api/sessions lists them.`);
}

/**
 * `GET /api/history/:id`: the whole stored history (tools, exports);
 * `GET /api/history/:id/summary?slices=N`: what the timeline slider draws.
 */
export async function replayRoutes(app: FastifyInstance, opts: { sources: ReplaySources }) {
  app.get('/api/history/:id', async (request, reply) => {
    const params = sessionIdParams.safeParse(request.params);
    if (!params.success) return badRequest(reply, 'session id', params.error);
    const history = await loadHistory(opts.sources, params.data.id);
    return history ?? notFound(reply, params.data.id);
  });

  app.get('/api/history/:id/summary', async (request, reply) => {
    const params = sessionIdParams.safeParse(request.params);
    if (!params.success) return badRequest(reply, 'session id', params.error);
    const query = summaryQuery.safeParse(request.query);
    if (!query.success) return badRequest(reply, 'query', query.error);
    const summary = await replaySummary(opts.sources, params.data.id, query.data.slices);
    return summary ?? notFound(reply, params.data.id);
  });
}
