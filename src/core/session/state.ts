import type { SessionState } from '../../shared/model.ts';

const COMPLETED = new Set(['completed', 'complete', 'done', 'success']);
const FAILED = new Set(['failed', 'error', 'aborted', 'tests_failed_max_iterations']);

/**
 * What the producer's free-form status says on its own; unknown values are
 * active. A `completed` status is per phase in Context Foundry documents: whether
 * it ends the build is `endOf`'s decision (run.ts), not this one's.
 */
export function stateFromStatus(status: string): SessionState {
  const s = status.trim().toLowerCase();
  if (COMPLETED.has(s)) return 'completed';
  if (FAILED.has(s)) return 'failed';
  return 'active';
}

/** Phase names compare without case or surrounding blanks ("Scout" = "scout"). */
export function samePhase(a: string | null, b: string | null): boolean {
  if (a === null || b === null) return a === b;
  return a.trim().toLowerCase() === b.trim().toLowerCase();
}
