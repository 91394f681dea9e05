import { useEffect, useState } from 'react';
import { type Alert, type AlertEvent, alertLabel } from '../../../src/shared/attention.ts';
import { getJson } from '../lib/api.ts';
import { useLiveEntry } from '../lib/live.tsx';
import { formatDateTime } from '../lib/time.ts';

interface AlertHistory {
  alerts: Alert[];
  events: AlertEvent[];
}

const VERB: Record<AlertEvent['kind'], string> = {
  raised: 'raised',
  resolved: 'resolved',
  acknowledged: 'acknowledged',
  snoozed: 'snoozed',
};

/** Every alert of the session and what happened to it, read again when the queue changes. */
export function SessionAlerts({ id }: { id: string }) {
  const version = useLiveEntry('attention')?.version ?? 0;
  const [history, setHistory] = useState<AlertHistory | null>(null);
  useEffect(() => {
    const controller = new AbortController();
    // The version is what makes a change of the queue read the history again.
    void version;
    getJson<AlertHistory>(`alerts/${encodeURIComponent(id)}`, controller.signal)
      .then(setHistory)
      .catch(() => undefined);
    return () => controller.abort();
  }, [id, version]);
  if (!history || history.events.length === 0) return null;
  const byId = new Map(history.alerts.map((a) => [a.id, a]));
  return (
    <section className="card" aria-labelledby="alerts-h">
      <div className="card-head">
        <h2 id="alerts-h">Alerts</h2>
      </div>
      <ol className="alert-history">
        {[...history.events].reverse().map((e) => {
          const alert = byId.get(e.alertId);
          return (
            <li key={`${e.alertId}-${e.kind}-${e.at}`} data-event={e.kind}>
              <span className="muted small">{formatDateTime(e.at)}</span>{' '}
              <span className="badge">{alert ? alertLabel(alert.kind) : 'Alert'}</span>{' '}
              {VERB[e.kind]}
              {e.kind === 'raised' && e.detail ? `: ${e.detail}` : ''}
              {e.kind !== 'raised' && e.detail ? ` by ${e.detail}` : ''}
              {e.kind === 'snoozed' && e.until !== null ? ` until ${formatDateTime(e.until)}` : ''}
            </li>
          );
        })}
      </ol>
    </section>
  );
}
