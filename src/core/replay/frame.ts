import type { Alert, AlertEvent } from '../../shared/attention.ts';
import type { TestIteration, TokenPoint } from '../../shared/metrics.ts';
import type { LogLine, PhaseTransition, SessionStatus, TimelineEntry } from '../../shared/model.ts';
import type {
  HistorySummary,
  HistoryTransition,
  ReplayFrame,
  SessionHistory,
  SummarySlice,
} from '../../shared/replay.ts';
import { historyTransitions } from './history.ts';

/** How much of its lists a frame carries: the last `rows` timeline rows and `lines` log lines. */
export interface FrameSize {
  rows: number;
  lines: number;
}

/** What `GET /api/status/:id?at=` answers unless asked for less. */
export const DEFAULT_FRAME: FrameSize = { rows: 100, lines: 200 };
/** Phases walked back from the one current then to list the completed ones. */
const COMPLETED_LOOKBACK = 200;

/**
 * Everything a frame at `at` reads of a session's history: a bounded slice,
 * however long the history is, so a store can answer it from indexed queries
 * (`SessionStore`-side `historyAt`) and a full history can be cut the same way
 * (`windowOf`). Both feed `frameFromWindow`, so the two paths cannot drift.
 */
export interface HistoryWindow {
  /** The session now (the end of its history). */
  status: SessionStatus;
  /** The last `transitionsNeeded(size.rows)` transitions at or before `at`, oldest first. */
  transitions: readonly HistoryTransition[];
  /** Transitions at or before `at` in all. */
  count: number;
  /** The first transition after `at`; null when none comes after it. */
  firstAfter: HistoryTransition | null;
  /** The last token point at or before `at`, and the last of all. */
  tokenAt: TokenPoint | null;
  tokenLast: TokenPoint | null;
  /** Test iterations written by `at`, in the order they were written. */
  tests: readonly TestIteration[];
  /** The last `size.lines` lines written at or before `at`, oldest first. */
  logs: readonly LogLine[];
  /** The session's alerts (any time) and their history. */
  alerts: readonly Alert[];
  alertEvents: readonly AlertEvent[];
  /** The session's cost so far when it carries one; past moments get their share by tokens. */
  costUsd: number | null;
}

/** How many transitions before a moment a frame with `rows` timeline rows reads. */
export function transitionsNeeded(rows = DEFAULT_FRAME.rows): number {
  return Math.max(rows, COMPLETED_LOOKBACK + 1);
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

/**
 * The moments a history spans: from its first transition (or first sight) to
 * its last change, token point or log line.
 */
export function spanOf(
  status: SessionStatus,
  bounds: {
    firstTransitionAt: number | null;
    lastTokenAt: number | null;
    lastLogAt: number | null;
  },
): { start: number; end: number } {
  const first = bounds.firstTransitionAt ?? status.firstSeenAt;
  const start = Math.min(first, status.firstSeenAt);
  let end = Math.max(start, status.changedAt);
  if (bounds.lastTokenAt !== null && bounds.lastTokenAt > end) end = bounds.lastTokenAt;
  if (bounds.lastLogAt !== null && bounds.lastLogAt > end) end = bounds.lastLogAt;
  return { start, end };
}

/** The moments a whole history spans (see `spanOf`). */
export function historySpan(h: SessionHistory): { start: number; end: number } {
  return spanOf(h.status, {
    firstTransitionAt: h.transitions[0]?.at ?? null,
    lastTokenAt: h.tokens.at(-1)?.at ?? null,
    lastLogAt: h.logs.at(-1)?.at ?? null,
  });
}

/** Cuts a whole history (lists in time order) as a store's indexed reads would. */
export function windowOf(
  h: SessionHistory,
  at: number,
  size: FrameSize = DEFAULT_FRAME,
): HistoryWindow {
  const ti = upperBound(h.transitions, at, (t) => t.at);
  const from = Math.max(0, ti - transitionsNeeded(size.rows));
  const logs = h.logs.filter((l) => l.at <= at);
  return {
    status: h.status,
    transitions: h.transitions.slice(from, ti),
    count: ti,
    firstAfter: h.transitions[ti] ?? null,
    tokenAt: h.tokens[upperBound(h.tokens, at, (p) => p.at) - 1] ?? null,
    tokenLast: h.tokens.at(-1) ?? null,
    tests: h.tests.slice(
      0,
      upperBound(h.tests, at, (t) => t.updatedAt),
    ),
    logs: size.lines > 0 ? logs.slice(Math.max(0, logs.length - size.lines)) : [],
    alerts: h.alerts,
    alertEvents: h.alertEvents,
    costUsd: h.costUsd,
  };
}

function statusAt(w: HistoryWindow, at: number): SessionStatus {
  const now = w.status;
  const { transitions } = w;
  if (w.firstAfter === null && at >= now.changedAt) return now;
  // Before its first phase change the session is shown in its first phase.
  const t = transitions.at(-1) ?? w.firstAfter;
  if (!t) return now;
  const completed: string[] = [];
  const seen = new Set<string>();
  // Phases left before the one current then: only what the frame's timeline shows is walked.
  const last = transitions.length - 1;
  for (let i = Math.max(0, last - COMPLETED_LOOKBACK); i < last; i++) {
    const p = (transitions[i] as HistoryTransition).phase;
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

/** The dashboard at `at`, from the slice of history a store (or `windowOf`) read for it. */
export function frameFromWindow(
  w: HistoryWindow,
  at: number,
  size: FrameSize = DEFAULT_FRAME,
): ReplayFrame {
  const { rows } = size;
  const { transitions } = w;
  const status = statusAt(w, at);
  const timeline: TimelineEntry[] = [];
  for (let i = Math.max(0, transitions.length - rows); i < transitions.length; i++) {
    const t = transitions[i] as HistoryTransition;
    const next = transitions[i + 1];
    const endedAt = next ? next.at : status.state === 'active' ? null : status.changedAt;
    timeline.push({
      phase: t.phase,
      phaseNumber: t.phaseNumber.raw,
      startedAt: t.at,
      endedAt,
      durationMs: endedAt === null ? null : Math.max(0, endedAt - t.at),
    });
  }
  const input = w.tokenAt?.cumulativeInput ?? 0;
  const output = w.tokenAt?.cumulativeOutput ?? 0;
  const allTokens = w.tokenLast ? w.tokenLast.cumulativeInput + w.tokenLast.cumulativeOutput : 0;
  const costUsd =
    w.costUsd === null || allTokens === 0 ? null : (w.costUsd * (input + output)) / allTokens;
  const alerts = [...w.alerts]
    .filter((a) => a.raisedAt <= at)
    .sort((a, b) => a.raisedAt - b.raisedAt)
    .map((a) => alertAt(a, w.alertEvents, at));
  return {
    at,
    status,
    timeline,
    timelineLength: w.count,
    tokens: { input, output, total: input + output, costUsd },
    tests: [...w.tests],
    log: [...w.logs],
    alerts,
  };
}

/** The dashboard at `at`, from a whole history whose lists are in time order. */
export function frameAt(
  h: SessionHistory,
  at: number,
  size: FrameSize = DEFAULT_FRAME,
): ReplayFrame {
  return frameFromWindow(windowOf(h, at, size), at, size);
}

/** A stored bucket of phase changes: how many fell in it and the last of them. */
export interface TransitionBucket {
  /** 0 … slices − 1. */
  bucket: number;
  transitions: number;
  last: PhaseTransition;
}

/**
 * The slider's coarse timeline: the span cut into `slices` equal slices, each
 * with the phase current at its end (carried over slices without a change).
 * The last slice ends with the history, so it shows the session as it is now,
 * as the frame at the end does. `buckets` are what a store grouped with `bucketOf`.
 */
export function summaryOf(
  status: SessionStatus,
  span: { start: number; end: number },
  buckets: readonly TransitionBucket[],
  slices: number,
): HistorySummary {
  const byIndex = new Map(buckets.map((b) => [b.bucket, b]));
  const out: SummarySlice[] = [];
  let current: SummarySlice = { phase: null, state: null, changes: 0 };
  let transitions = 0;
  for (let i = 0; i < slices; i++) {
    const b = byIndex.get(i);
    if (b) {
      const [t] = historyTransitions([b.last]);
      current = { phase: t?.phase ?? null, state: t?.state ?? null, changes: b.transitions };
      transitions += b.transitions;
    } else {
      current = { ...current, changes: 0 };
    }
    out.push(current);
  }
  const last = out.at(-1);
  if (last) {
    out[out.length - 1] = {
      ...last,
      phase: status.currentPhase || last.phase,
      state: status.state,
    };
  }
  return { sessionId: status.id, start: span.start, end: span.end, transitions, slices: out };
}

/** The slice a moment falls in; what a store's bucket query computes in SQL. */
export function bucketOf(at: number, span: { start: number; end: number }, slices: number): number {
  const width = Math.max(1, span.end - span.start);
  return Math.max(0, Math.min(slices - 1, Math.floor(((at - span.start) * slices) / width)));
}
