import type { SessionState } from '../../../src/shared/model.ts';

const ICON: Record<SessionState, string> = { active: '●', completed: '✓', failed: '✕' };

/** The coarse state as a coloured badge, with the producer's own status word beside it. */
export function StateBadge({
  state,
  status,
  stale,
}: {
  state: SessionState;
  status?: string;
  stale?: boolean;
}) {
  return (
    <span className="badges">
      <span className={`badge state-${state}`}>
        <span aria-hidden="true">{ICON[state]} </span>
        {state}
      </span>
      {status !== undefined && status !== state && <span className="badge status">{status}</span>}
      {stale && (
        <span className="badge stale" title="Running, but nothing changed for 5 minutes">
          stale
        </span>
      )}
    </span>
  );
}
