import { memo } from 'react';
import type { SessionStatus } from '../../../src/shared/model.ts';
import { sessionHref } from '../lib/route.ts';
import { formatAgo, STALE_AFTER_MS } from '../lib/time.ts';
import { ProgressBar } from './ProgressBar.tsx';
import { StateBadge } from './StateBadge.tsx';

export function isStale(s: SessionStatus, now: number): boolean {
  return s.state === 'active' && now - s.changedAt > STALE_AFTER_MS;
}

/** One session in the overview list. Memoised: a push to one session re-renders one row. */
export const SessionRow = memo(function SessionRow({ s, now }: { s: SessionStatus; now: number }) {
  const stale = isStale(s, now);
  const tone = s.state === 'active' ? 'active' : s.state;
  return (
    <li className={`session-row state-${s.state}`} data-session={s.id}>
      <div className="row-head">
        <a className="session-name" href={sessionHref(s.id)}>
          {s.id}
        </a>
        {s.host !== undefined && (
          <span className="machine" title="machine">
            {s.host}
          </span>
        )}
        <StateBadge state={s.state} status={s.status} stale={stale} />
      </div>
      <div className="row-phase">
        <span className="phase-name">{s.currentPhase || 'unknown phase'}</span>
        {s.phaseNumber.raw !== null && <span className="muted"> · phase {s.phaseNumber.raw}</span>}
        {s.testIteration !== null && (
          <span className="muted"> · test iteration {s.testIteration}</span>
        )}
      </div>
      <ProgressBar
        percent={s.state === 'completed' ? 100 : s.progressPercent}
        label={`${s.id} progress`}
        tone={tone}
      />
      <div className="row-foot muted">
        {s.progressDetail !== null && <span className="detail">{s.progressDetail}</span>}
        <span className="ago" title={new Date(s.changedAt).toISOString()}>
          updated {formatAgo(s.changedAt, now)}
        </span>
      </div>
    </li>
  );
});
