import { ConnectionAware } from '../components/ConnectionAware.tsx';
import { LogView } from '../components/LogView.tsx';
import { PhaseStepper } from '../components/PhaseStepper.tsx';
import { ProgressEta } from '../components/ProgressEta.tsx';
import { isStale } from '../components/SessionRow.tsx';
import { StateBadge } from '../components/StateBadge.tsx';
import { Timeline } from '../components/Timeline.tsx';
import { Updated } from '../components/Updated.tsx';
import { downloadSession } from '../lib/exportSession.ts';
import { useLiveEntry } from '../lib/live.tsx';
import { useNow } from '../lib/now.ts';
import { useMetrics } from '../lib/useMetrics.ts';
import { SessionInfo } from './SessionInfo.tsx';
import { SessionMetricsPanels } from './SessionMetrics.tsx';

/** One session, live or past: stepper, progress, timeline, log and metrics. */
export function SessionPage({ id }: { id: string }) {
  const detailEntry = useLiveEntry('session', id);
  const logsEntry = useLiveEntry('logs', id);
  const metricsEntry = useLiveEntry('metrics', id);
  const now = useNow();
  const detail = detailEntry?.data;
  const logs = logsEntry?.data;
  const statusAt = detailEntry?.receivedAt ?? null;
  const logsAt = logsEntry?.receivedAt ?? null;
  const metrics = useMetrics(id, metricsEntry?.data, detail?.status);

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
          <StateBadge state={s.state} status={s.status} stale={isStale(s, now)} />
        </div>
        <div className="actions">
          <Updated at={s.changedAt} label="Changed" />
          <button type="button" onClick={() => downloadSession(detail, metrics.data)}>
            ⤓ Export JSON
          </button>
        </div>
      </header>
      <ConnectionAware />
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
      <section className="card" aria-labelledby="log-h">
        <div className="card-head">
          <h2 id="log-h">Live log</h2>
          <Updated at={logsAt} />
        </div>
        {logs === undefined ? (
          <p className="empty">Loading log…</p>
        ) : (
          <LogView lines={logs?.lines ?? []} />
        )}
      </section>
      <h2 className="section-title">Enhanced metrics</h2>
      <SessionMetricsPanels m={metrics} />
    </div>
  );
}
