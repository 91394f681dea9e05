import { useState } from 'react';
import { type Alert, alertLabel, attentionQueue } from '../../../src/shared/attention.ts';
import { acknowledge, snooze } from '../lib/attention.ts';
import { useLive } from '../lib/live.tsx';
import { useNow } from '../lib/now.ts';
import { sessionHref } from '../lib/route.ts';
import { formatAgo } from '../lib/time.ts';

function AlertActions({ alert }: { alert: Alert }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const run = (action: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    action()
      .catch((e: unknown) => setError((e as Error).message))
      .finally(() => setBusy(false));
  };
  return (
    <span className="alert-actions">
      <button type="button" disabled={busy} onClick={() => run(() => acknowledge(alert.id))}>
        Acknowledge
      </button>
      <button
        type="button"
        className="ghost"
        disabled={busy}
        onClick={() => run(() => snooze(alert.id, 60))}
      >
        Snooze 1 h
      </button>
      {error && (
        <span className="warn" role="alert">
          {error}
        </span>
      )}
    </span>
  );
}

/** One alert: severity, what, why, since when. */
export function AlertRow({
  alert,
  now,
  link = true,
}: {
  alert: Alert;
  now: number;
  link?: boolean;
}) {
  return (
    <li className={`alert alert-${alert.severity}`} data-kind={alert.kind} data-alert={alert.id}>
      <div className="alert-head">
        <span className={`badge alert-badge-${alert.severity}`}>{alertLabel(alert.kind)}</span>
        {link ? (
          <a href={sessionHref(alert.sessionId)} className="session-name">
            {alert.sessionId}
          </a>
        ) : null}
        <span className="muted small" title={new Date(alert.since).toISOString()}>
          since {formatAgo(alert.since, now)}
        </span>
      </div>
      <p className="alert-reason">{alert.reason}</p>
      <AlertActions alert={alert} />
    </li>
  );
}

/**
 * How many alerts the queue shows before "Show all": with many builds failing at once
 * the whole queue would push the session list off the first screen.
 */
const FOLDED_ROWS = 5;

/**
 * What needs a person, first on the overview: most severe, then oldest.
 * Acknowledged and snoozed alerts leave it (a snooze ends on its own).
 */
export function AttentionQueue({ sessionId }: { sessionId?: string }) {
  const data = useLive('attention');
  const now = useNow();
  const [expanded, setExpanded] = useState(false);
  if (!data) return null;
  const all = Object.values(data.alerts).filter(
    (a) => sessionId === undefined || a.sessionId === sessionId,
  );
  const queue = attentionQueue(all, now);
  const folds = queue.length > FOLDED_ROWS;
  if (queue.length === 0) {
    return sessionId === undefined ? (
      <section className="card attention-queue attention-empty" aria-label="Needs attention">
        <p className="muted small">Nothing needs you right now.</p>
      </section>
    ) : null;
  }
  return (
    <section className="card attention-queue" aria-labelledby="attention-h">
      <div className="card-head">
        <h2 id="attention-h">Needs attention ({queue.length})</h2>
      </div>
      <ul className="alert-list">
        {(folds && !expanded ? queue.slice(0, FOLDED_ROWS) : queue).map((a) => (
          <AlertRow key={a.id} alert={a} now={now} link={sessionId === undefined} />
        ))}
      </ul>
      {folds ? (
        <button
          type="button"
          className="ghost attention-more"
          aria-expanded={expanded}
          onClick={() => setExpanded(!expanded)}
        >
          {expanded ? `Show the first ${FOLDED_ROWS}` : `Show all ${queue.length}`}
        </button>
      ) : null}
    </section>
  );
}
