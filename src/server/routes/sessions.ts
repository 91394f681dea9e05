import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { SESSION_STATES, type SessionState } from '../../shared/model.ts';
import { sendError } from '../errors.ts';
import { badRequest, sessionIdParams } from '../params.ts';
import type { HealthQuery, LogQueries, ScanStatus, SessionQueries } from '../queries.ts';

const sessionsQuery = z.object({
  state: z.enum(SESSION_STATES as [SessionState, ...SessionState[]]).optional(),
});

const logsQuery = z.object({
  lines: z.coerce.number().int().min(1).max(5000).default(100),
});

export interface SessionRoutesOptions {
  sessions: SessionQueries;
  logs: Pick<LogQueries, 'read'>;
  store: HealthQuery;
  /** Live WebSocket connections, for /api/health. */
  connections: () => number;
  /** How far the roots have been read; null when nothing is watched. */
  scan?: () => ScanStatus | null;
  /** Counts accepted pushes (for /metrics). */
  onPush?: () => void;
  /**
   * `GET /api/status/:id?at=<ms>[&rows=N&lines=N]`: the session as it was then, from its
   * stored history, with the last `rows` timeline rows and `lines` log lines (100, 200).
   */
  replay?: (
    id: string,
    at: number,
    size: { rows: number; lines: number },
  ) => Promise<unknown | null>;
  /**
   * Resolves once this turn's writes are committed, where that takes more
   * than a turn (PostgreSQL, a shared bus); default: the next turn (SQLite).
   */
  committed?: () => Promise<void>;
}

const statusQuery = z.object({
  at: z.coerce.number().min(0).max(8.64e15).optional(),
  rows: z.coerce.number().int().min(1).max(100).default(100),
  lines: z.coerce.number().int().min(0).max(200).default(200),
});

/** The seed's HTTP surface for build sessions (formats.md §4). */
export async function sessionRoutes(app: FastifyInstance, opts: SessionRoutesOptions) {
  const { sessions, logs, store } = opts;

  const findSession = (raw: unknown, reply: FastifyReply) => {
    const params = sessionIdParams.safeParse(raw);
    if (!params.success) {
      badRequest(reply, 'session id', params.error);
      return null;
    }
    const detail = sessions.get(params.data.id);
    if (!detail) {
      sendError(
        reply,
        404,
        'not_found',
        `No session '${params.data.id}'. GET /api/sessions lists them.`,
      );
      return null;
    }
    return detail;
  };

  app.get('/api/health', async () => {
    const health = store.health();
    return {
      status: 'healthy',
      sessions: sessions.list().length,
      connections: opts.connections(),
      history: health.writable ? 'saving' : 'not_saving',
      store: health,
      ...scanOf(opts.scan?.() ?? null),
    };
  });

  app.get('/api/sessions', async (request, reply) => {
    const query = sessionsQuery.safeParse(request.query);
    if (!query.success) return badRequest(reply, 'query', query.error);
    const list = sessions.list(query.data.state ? { state: query.data.state } : undefined);
    return { sessions: list, count: list.length };
  });

  app.get('/api/status/:id', async (request, reply) => {
    const query = statusQuery.safeParse(request.query);
    if (!query.success) return badRequest(reply, 'query', query.error);
    const detail = findSession(request.params, reply);
    if (!detail) return reply;
    if (query.data.at === undefined || !opts.replay) return detail.status;
    const size = { rows: query.data.rows, lines: query.data.lines };
    return (await opts.replay(detail.status.id, query.data.at, size)) ?? reply;
  });

  app.get('/api/phases/:id', async (request, reply) => {
    const detail = findSession(request.params, reply);
    if (!detail) return reply;
    return { session_id: detail.status.id, timeline: detail.timeline };
  });

  app.get('/api/logs/:id', async (request, reply) => {
    const query = logsQuery.safeParse(request.query);
    if (!query.success) return badRequest(reply, 'query', query.error);
    const detail = findSession(request.params, reply);
    if (!detail) return reply;
    const lines = await logs.read(detail.status.id, query.data.lines);
    return { session_id: detail.status.id, lines, count: lines.length };
  });

  app.post('/api/phase-update', async (request, reply) => {
    const result = sessions.ingestPush(request.body, Date.now());
    if (!result.ok) {
      const code = result.status === 409 ? 'session_unknown' : 'bad_request';
      return sendError(reply, result.status, code, result.error);
    }
    // The store commits this turn's writes on setImmediate; acknowledge after it,
    // so a crash right after the 200 cannot lose an acknowledged phase change.
    await (opts.committed?.() ?? new Promise<void>((resolve) => setImmediate(resolve)));
    opts.onPush?.();
    return {
      status: 'received',
      session_id: result.sessionId,
      key: result.key,
      changed: result.changed,
    };
  });
}

/** `scan` in /api/health: the progress, and `scanning N/M folders` while the first read runs. */
function scanOf(scan: ScanStatus | null): { scan?: ScanStatus & { text: string } } {
  if (!scan) return {};
  const text =
    scan.state === 'scanning'
      ? `scanning ${scan.foldersRead}/${scan.foldersFound} folders, ${scan.filesRead}/${scan.filesFound} files`
      : `watching ${scan.foldersFound} folders`;
  return { scan: { ...scan, text } };
}
