import type { Alert, AlertEvent } from './attention.ts';
import type { TestIteration, TokenPoint } from './metrics.ts';
import type { LogLine, PhaseNumber, SessionState, SessionStatus, TimelineEntry } from './model.ts';

/**
 * Replay: what the dashboard showed of a session at a past moment, rebuilt
 * from its stored history. The server sends the history once
 * (`GET /api/history/:id`); `frameAt` rebuilds any moment of it in
 * logarithmic time (binary searches over time-ordered lists), so a page can
 * scrub through 10,000 transitions without re-reading anything.
 * `GET /api/status/:id?at=<ms>` answers `frameAt` on the server.
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

/** Index of the first item whose time is after `at` (items sorted by time). */
export function upperBound<T>(items: readonly T[], at: number, time: (item: T) => number): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (time(items[mid] as T) <= at) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The moments a history spans: its first transition (or first sight) to its last change. */
export function historySpan(h: SessionHistory): { start: number; end: number } {
  const first = h.transitions[0]?.at ?? h.status.firstSeenAt;
  const start = Math.min(first, h.status.firstSeenAt);
  let end = Math.max(start, h.status.changedAt);
  const lastToken = h.tokens.at(-1)?.at;
  const lastLog = h.logs.at(-1)?.at;
  if (lastToken !== undefined && lastToken > end) end = lastToken;
  if (lastLog !== undefined && lastLog > end) end = lastLog;
  return { start, end };
}

function statusAt(h: SessionHistory, at: number, index: number): SessionStatus {
  const now = h.status;
  if (index >= h.transitions.length && at >= now.changedAt) return now;
  const t = h.transitions[Math.max(0, index - 1)];
  if (!t) return now;
  const completed: string[] = [];
  const seen = new Set<string>();
  // Phases left before the one current then: only what the frame's timeline shows is walked.
  for (let i = Math.max(0, index - 1 - 200); i < index - 1; i++) {
    const p = (h.transitions[i] as HistoryTransition).phase;
    if (!seen.has(p)) {
      seen.add(p);
      completed.push(p);
    }
  }
  return {
    ...now,
    currentPhase: t.phase,
    phaseNumber: t.phaseNumber,
    status: t.status,
    state: t.state,
    progressDetail: null,
    phasesCompleted: completed,
    changedAt: t.at,
    progressPercent: t.progressPercent,
    etaAt: null,
    warnings: now.warnings.filter((w) => w.at <= at),
  };
}

function alertAt(alert: Alert, events: readonly AlertEvent[], at: number): Alert {
  let snoozedUntil: number | null = null;
  for (const e of events) {
    if (e.alertId === alert.id && e.kind === 'snoozed' && e.at <= at) snoozedUntil = e.until;
  }
  return {
    ...alert,
    resolvedAt: alert.resolvedAt !== null && alert.resolvedAt <= at ? alert.resolvedAt : null,
    acknowledgedAt:
      alert.acknowledgedAt !== null && alert.acknowledgedAt <= at ? alert.acknowledgedAt : null,
    snoozedUntil,
  };
}

/** The dashboard at `at`, from a history whose lists are in time order. */
export function frameAt(
  h: SessionHistory,
  at: number,
  opts: { logLines?: number; timelineRows?: number } = {},
): ReplayFrame {
  const logLines = opts.logLines ?? 200;
  const rows = opts.timelineRows ?? 100;
  const ti = upperBound(h.transitions, at, (t) => t.at);
  const status = statusAt(h, at, ti);
  const timeline: TimelineEntry[] = [];
  for (let i = Math.max(0, ti - rows); i < ti; i++) {
    const t = h.transitions[i] as HistoryTransition;
    const next = i + 1 < ti ? (h.transitions[i + 1] as HistoryTransition) : null;
    const endedAt = next ? next.at : status.state === 'active' ? null : status.changedAt;
    timeline.push({
      phase: t.phase,
      phaseNumber: t.phaseNumber.raw,
      startedAt: t.at,
      endedAt,
      durationMs: endedAt === null ? null : Math.max(0, endedAt - t.at),
    });
  }
  const point = h.tokens[upperBound(h.tokens, at, (p) => p.at) - 1];
  const input = point?.cumulativeInput ?? 0;
  const output = point?.cumulativeOutput ?? 0;
  const last = h.tokens.at(-1);
  const allTokens = last ? last.cumulativeInput + last.cumulativeOutput : 0;
  const costUsd =
    h.costUsd === null || allTokens === 0 ? null : (h.costUsd * (input + output)) / allTokens;
  const tests = h.tests.slice(
    0,
    upperBound(h.tests, at, (t) => t.updatedAt),
  );
  const li = upperBound(h.logs, at, (l) => l.at);
  const alerts = h.alerts.filter((a) => a.raisedAt <= at).map((a) => alertAt(a, h.alertEvents, at));
  return {
    at,
    status,
    timeline,
    timelineLength: ti,
    tokens: { input, output, total: input + output, costUsd },
    tests,
    log: h.logs.slice(Math.max(0, li - logLines), li),
    alerts,
  };
}
