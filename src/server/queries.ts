import type { Analytics, SessionMetrics } from '../shared/metrics.ts';
import type { LogLine, SessionDetail, SessionState, SessionStatus } from '../shared/model.ts';
import type { PlanDetail, PlanSummary } from '../shared/plans.ts';
import type { StoreHealth } from '../store/types.ts';

/**
 * What the HTTP routes and WebSocket endpoints need from the rest of the
 * application, and nothing more. The server imports no engine, hub or store
 * class: `app.ts` hands it objects that fill these (today the engines and
 * the SQLite or PostgreSQL store), so either side changes without the other.
 */

/** Build sessions: read and push (`/api/sessions`, `/api/status`, `/api/phase-update`). */
export interface SessionQueries {
  list(filter?: { state?: SessionState }): SessionStatus[];
  get(key: string): SessionDetail | null;
  /** A session's extra fields, whole (statuses carry them bounded); null for no session. */
  extras(key: string): { extras: Record<string, unknown>; omitted: number } | null;
  /** The key of the session with this id, when the id is not itself a key. */
  keyFor(sessionId: string): string | null;
  ingestPush(body: unknown, receivedAt: number): PushOutcome;
}

export type PushOutcome =
  | { ok: true; key: string; sessionId: string; changed: boolean }
  /** 400: the body is not a phase document; 409: it names no session and none can be inferred. */
  | { ok: false; error: string; status: 400 | 409 };

/** Enhanced metrics, analytics, agent updates and broadcasts. */
export interface MetricsQueries {
  get(key: string): SessionMetrics | null;
  analytics(): Promise<Analytics>;
  agentUpdate(body: unknown, receivedAt: number): AcceptOutcome;
  broadcast(sessionId: string, body: unknown, receivedAt: number): AcceptOutcome;
}

/** An accepted input's answer (sent as JSON without `ok`), or why it was refused. */
export type AcceptOutcome =
  | ({ ok: true; status: 'received' } & Record<string, unknown>)
  | { ok: false; error: string; message: string };

/** Plan folders. */
export interface PlanQueries {
  list(): PlanSummary[];
  get(id: string): PlanDetail | null;
}

/** Session logs, some of them kept out of memory until read. */
export interface LogQueries {
  read(key: string, lines: number): Promise<LogLine[]>;
  /** Number of the newest line, when the log is not in memory. */
  head(key: string): number | null;
  /** Loads a log kept out of memory; null when it is in memory already. Never rejects. */
  warm(key: string): Promise<void> | null;
}

/** `/api/health`: is history being saved. */
export interface HealthQuery {
  health(): StoreHealth;
  /** Commits the writes queued so far; resolves once they are committed or parked. */
  flush?(): void | Promise<void>;
}

/** `/api/health`: how far the watched roots have been read (a large tree takes seconds). */
export interface ScanStatus {
  state: 'scanning' | 'watching';
  foldersRead: number;
  foldersFound: number;
  filesRead: number;
  filesFound: number;
  /** Folders or entries waiting to be read again after running out of file descriptors. */
  retrying: number;
}

/** For /metrics: the replay log's size, and what a shared bus holds unacknowledged. */
export interface ReplayGauge {
  readonly replayStats: { bytes: number };
  readonly queueStats?:
    | { deltas: number; bytes: number; outOfStep: number; keptOut: number }
    | undefined;
}
