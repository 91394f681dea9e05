import { AttentionQueue } from '../components/AttentionQueue.tsx';
import { ConnectionAware } from '../components/ConnectionAware.tsx';
import { PlanList } from '../components/PlanList.tsx';
import { SessionList } from '../components/SessionList.tsx';
import { Updated } from '../components/Updated.tsx';
import { useLive, useLiveEntry } from '../lib/live.tsx';

/** Every session (live first) and every plan. */
export function Overview() {
  const entry = useLiveEntry('sessions');
  const sessions = entry?.data;
  const plans = useLive('plans');
  const agents = useLive('agents');
  const sessionsAt = entry?.receivedAt ?? null;
  return (
    <div className="overview">
      <ConnectionAware />
      <AttentionQueue />
      <div className="overview-meta">
        <Updated at={sessionsAt} />
      </div>
      {sessions === undefined ? (
        <p className="empty">Loading sessions…</p>
      ) : (
        <SessionList sessions={sessions?.sessions ?? {}} agents={agents?.agents ?? {}} />
      )}
      {sessions?.omitted ? (
        <p className="muted">
          {sessions.omitted} more session{sessions.omitted === 1 ? ' is' : 's are'} not listed here
          (the oldest finished first), to keep the live list small:{' '}
          <a href="/api/sessions" target="_blank" rel="noreferrer">
            all sessions (JSON)
          </a>
        </p>
      ) : null}
      {plans === undefined ? (
        <p className="empty">Loading plans…</p>
      ) : (
        <PlanList plans={plans?.plans ?? {}} />
      )}
    </div>
  );
}
