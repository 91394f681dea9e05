/**
 * Attention: what needs a person, and why. Alerts are raised by the attention
 * engine from the rules in `src/core/attention`, published on the `attention`
 * topic, served by `GET /api/attention` and stored with every acknowledgement.
 * Timestamps are epoch ms; nothing here is derived from "now" (clients compute
 * "for 5 min" from `since`).
 */

/** What the condition is. */
export type AlertKind =
  | 'stalled'
  | 'test_loop'
  | 'healing_loop'
  | 'tool_loop'
  | 'runaway_spend'
  | 'waiting_for_user'
  | 'producer_gone'
  | 'failed'
  | 'completed';

export const ALERT_KINDS: readonly AlertKind[] = [
  'stalled',
  'test_loop',
  'healing_loop',
  'tool_loop',
  'runaway_spend',
  'waiting_for_user',
  'producer_gone',
  'failed',
  'completed',
];

/** `critical` first in the queue, then `warning`, then `info`. */
export type AlertSeverity = 'critical' | 'warning' | 'info';

/** One episode of a condition on one session. */
export interface Alert {
  /**
   * Stable per episode (`<session>|<kind>|<episode>`): the same condition seen
   * again after a restart is the same alert, so it is neither lost nor sent twice.
   */
  id: string;
  sessionId: string;
  kind: AlertKind;
  severity: AlertSeverity;
  /** A sentence a person can act on: "Tests failing 4 iterations in a row (3 of 24), 61,200 tokens spent since Builder". */
  reason: string;
  /** When the condition started to hold. */
  since: number;
  /** When the engine raised it. */
  raisedAt: number;
  /** When the condition stopped holding; null while it holds. */
  resolvedAt: number | null;
  acknowledgedAt: number | null;
  /** Hidden from the queue until then; null when not snoozed. */
  snoozedUntil: number | null;
}

/** What happened to an alert, as stored in its history. */
export type AlertEventKind = 'raised' | 'resolved' | 'acknowledged' | 'snoozed';

export interface AlertEvent {
  alertId: string;
  sessionId: string;
  kind: AlertEventKind;
  at: number;
  /** The reason when raised, or who acted (acknowledged, snoozed). */
  detail: string | null;
  /** For `snoozed`: until when. */
  until: number | null;
}

/** The `attention` topic: the open alerts (not resolved), keyed by id. */
export interface AttentionData {
  alerts: Record<string, Alert>;
}

const SEVERITY_RANK: Record<AlertSeverity, number> = { critical: 0, warning: 1, info: 2 };

/** Whether an alert is in the queue at `now`: open, not acknowledged, not snoozed. */
export function isQueued(alert: Alert, now: number): boolean {
  if (alert.resolvedAt !== null || alert.acknowledgedAt !== null) return false;
  return alert.snoozedUntil === null || alert.snoozedUntil <= now;
}

/**
 * The attention queue at `now`: what needs a person first — most severe, then
 * the oldest condition. Acknowledged, snoozed and resolved alerts are left out.
 */
export function attentionQueue(alerts: Iterable<Alert>, now: number): Alert[] {
  const out: Alert[] = [];
  for (const a of alerts) if (isQueued(a, now)) out.push(a);
  return out.sort(
    (a, b) =>
      SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] ||
      a.since - b.since ||
      a.id.localeCompare(b.id),
  );
}

/** "stalled" → "Stalled", for badges. */
export function alertLabel(kind: AlertKind): string {
  const labels: Record<AlertKind, string> = {
    stalled: 'Stalled',
    test_loop: 'Test loop',
    healing_loop: 'Self-healing loop',
    tool_loop: 'Tool loop',
    runaway_spend: 'Spend without progress',
    waiting_for_user: 'Waiting for you',
    producer_gone: 'Producer gone',
    failed: 'Failed',
    completed: 'Completed',
  };
  return labels[kind];
}
