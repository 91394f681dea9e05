import { AttentionQueue } from '../components/AttentionQueue.tsx';
import { ConnectionAware } from '../components/ConnectionAware.tsx';
import { ExportButton } from '../components/ExportButton.tsx';
import { LiveStateBadge } from '../components/LiveStateBadge.tsx';
import { PhaseStepper } from '../components/PhaseStepper.tsx';
import { ProgressEta } from '../components/ProgressEta.tsx';
import { Timeline } from '../components/Timeline.tsx';
import { Updated } from '../components/Updated.tsx';
import { useLiveEntry } from '../lib/live.tsx';
import { LogPanel } from './LogPanel.tsx';
import { MetricsSection } from './MetricsSection.tsx';
import { ReplayPanel } from './ReplayPanel.tsx';
import { SessionAlerts } from './SessionAlerts.tsx';
import { SessionInfo } from './SessionInfo.tsx';

/** One session, live or past: stepper, progress, timeline, log and metrics. */
export function SessionPage({ id, at = null }: { id: string; at?: number | null }) {
  const entry = useLiveEntry('session', id);
  const detail = entry?.data;
  const statusAt = entry?.receivedAt ?? null;

  if (detail === undefined) return <p className="empty">Loading session {id}…</p>;
  if (detail === null)
    return (
      <section className="card">
        <h2>No session “{id}”</h2>
        <p>
          Livestream does not know this session (yet). It appears as soon as its current-phase.json
          is written or pushed. <a href="#/">Back to all sessions</a>
        </p>
      </section>
    );
  const s = detail.status;
  return (
    <div className="session-page" data-session={s.id} data-state={s.state}>
      <header className="page-head">
        <div>
          <a href="#/" className="back">
            ← All sessions
          </a>
          <h1 className="session-title">{s.id}</h1>
          <LiveStateBadge s={s} />
        </div>
        <div className="actions">
          <Updated at={s.changedAt} label="Changed" final={s.state !== 'active'} />
          <ExportButton detail={detail} />
        </div>
      </header>
      <ConnectionAware />
      <AttentionQueue sessionId={s.id} />
      <ReplayPanel id={s.id} initialAt={at} />
      <section className="card" aria-labelledby="phases-h">
        <div className="card-head">
          <h2 id="phases-h">
            Phase: <span className="phase-current">{s.currentPhase || 'unknown'}</span>
          </h2>
          <Updated at={statusAt} />
        </div>
        <PhaseStepper status={s} timeline={detail.timeline} />
        <ProgressEta s={s} />
      </section>
      <div className="two-col">
        <section className="card" aria-labelledby="timeline-h">
          <div className="card-head">
            <h2 id="timeline-h">Timeline</h2>
            <Updated at={statusAt} />
          </div>
          <Timeline timeline={detail.timeline} active={s.state === 'active'} />
        </section>
        <section className="card" aria-labelledby="info-h">
          <div className="card-head">
            <h2 id="info-h">Details</h2>
          </div>
          <SessionInfo s={s} />
        </section>
      </div>
      <LogPanel id={id} />
      <MetricsSection id={id} status={s} />
      <SessionAlerts id={s.id} />
    </div>
  );
}
