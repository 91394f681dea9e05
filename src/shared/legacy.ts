import type { SessionStatus } from './model.ts';

/**
 * The session status in the seed's wire format (snake_case), as served by the
 * legacy `WS /ws/:id` endpoint and legacy HTTP views. It carries no
 * time-derived field (no elapsed seconds), so an unchanged session always
 * serialises to the same JSON and "send only when changed" holds.
 */
export interface LegacyStatus {
  /** Producer fields we do not model (e.g. `parallel_execution`), passed through. */
  [extra: string]: unknown;
  session_id: string;
  current_phase: string;
  /** As written ("4.5/8", "?/7"); null when absent. */
  phase_number: string | null;
  status: string;
  progress_detail: string | null;
  test_iteration: number | null;
  phases_completed: string[];
  /** ISO-8601; null when the producer did not write a parseable one. */
  started_at: string | null;
  /** ISO-8601 of the producer's `last_updated`, or of the last change when absent. */
  last_updated: string;
  is_complete: boolean;
  source: string;
  progress_percent: number | null;
  warnings: { code: string; message: string; at: string }[];
}

function iso(ms: number | null): string | null {
  if (ms === null || !Number.isFinite(ms)) return null;
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/** Maps the canonical status to the seed's format. */
export function toLegacyStatus(status: SessionStatus): LegacyStatus {
  return {
    ...status.extras,
    session_id: status.sessionId,
    current_phase: status.currentPhase,
    phase_number: status.phaseNumber.raw,
    status: status.status,
    progress_detail: status.progressDetail,
    test_iteration: status.testIteration,
    phases_completed: status.phasesCompleted,
    started_at: iso(status.startedAt),
    last_updated: iso(status.reportedAt) ?? iso(status.changedAt) ?? new Date(0).toISOString(),
    is_complete: status.state === 'completed',
    source: status.source,
    progress_percent: status.progressPercent,
    warnings: status.warnings.map((w) => ({
      code: w.code,
      message: w.message,
      at: iso(w.at) ?? new Date(0).toISOString(),
    })),
  };
}
