import type { Alert, AlertEvent } from './attention.ts';
import type { TestIteration, TokenPoint } from './metrics.ts';
import type { LogLine, PhaseNumber, SessionState, SessionStatus, TimelineEntry } from './model.ts';

/**
 * Replay: what the dashboard showed of a session at a past moment, rebuilt
 * from its stored history on the server (core/replay/frame.ts).
 * - `GET /api/status/:id?at=<ms>`: one frame, read from indexed store
 *   queries, so its cost does not grow with the history's length;
 * - `GET /api/history/:id/summary`: the span and a coarse timeline for the
 *   slider, fetched once when the replay opens;
 * - `GET /api/history/:id`: the whole stored history, for tools and exports.
 * The page fetches a small frame per scrub position instead of the history.
 */

/** A stored phase change, with what the server derived from it. */
export interface HistoryTransition {
  at: number;
  phase: string;
  phaseNumber: PhaseNumber;
  status: string;
  state: SessionState;
  progressPercent: number | null;
}

/** `GET /api/history/:id`: every list in time order. */
export interface SessionHistory {
  sessionId: string;
  /** The session's status now (the end of the history). */
  status: SessionStatus;
  transitions: HistoryTransition[];
  tokens: TokenPoint[];
  /** By `updatedAt`. */
  tests: TestIteration[];
  /** The stored lines only (the newest 1,000 in SQLite). */
  logs: LogLine[];
  alerts: Alert[];
  alertEvents: AlertEvent[];
  /** The cost so far when the session carries one; past moments get their share by tokens. */
  costUsd: number | null;
}

export interface ReplayFrame {
  at: number;
  status: SessionStatus;
  /** The last `timelineRows` rows at that moment (the current phase is open). */
  timeline: TimelineEntry[];
  /** How many timeline rows there were in all. */
  timelineLength: number;
  tokens: { input: number; output: number; total: number; costUsd: number | null };
  tests: TestIteration[];
  /** The last `logLines` lines written by then. */
  log: LogLine[];
  /** Alerts raised by then, as they stood then. */
  alerts: Alert[];
}

/** One slice of `HistorySummary.slices`. */
export interface SummarySlice {
  /** The phase current at the slice's end; null before the first phase change. */
  phase: string | null;
  state: SessionState | null;
  /** Phase changes stored within the slice. */
  changes: number;
}

/** `GET /api/history/:id/summary`: what the slider draws before any frame is fetched. */
export interface HistorySummary {
  sessionId: string;
  /** The moments the history spans (the slider's range). */
  start: number;
  end: number;
  /** Phase changes stored in all. */
  transitions: number;
  /** The span cut into equal slices, oldest first. */
  slices: SummarySlice[];
}
