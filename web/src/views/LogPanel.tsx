import { memo, useDeferredValue } from 'react';
import { LogView } from '../components/LogView.tsx';
import { Updated } from '../components/Updated.tsx';
import { useLiveEntry } from '../lib/live.tsx';

const DeferredLog = memo(LogView);

/**
 * The session's live log. It holds its own subscription so a busy log (hundreds
 * of lines a second) re-renders only this panel, and the list itself renders
 * deferred: bursts coalesce into one render instead of one per line.
 */
export function LogPanel({ id }: { id: string }) {
  const entry = useLiveEntry('logs', id);
  const lines = useDeferredValue(entry?.data?.lines);
  return (
    <section className="card" aria-labelledby="log-h">
      <div className="card-head">
        <h2 id="log-h">Live log</h2>
        <Updated at={entry?.receivedAt ?? null} />
      </div>
      {entry === undefined ? (
        <p className="empty">Loading log…</p>
      ) : (
        <DeferredLog lines={lines ?? []} />
      )}
    </section>
  );
}
