import type { TimelineEntry } from '../../../src/shared/model.ts';
import { useNow } from '../lib/now.ts';
import { formatDuration } from '../lib/time.ts';

/** A bar per phase, its length proportional to how long the phase took (the current one keeps growing). */
export function Timeline({ timeline, active }: { timeline: TimelineEntry[]; active: boolean }) {
  const now = useNow();
  if (timeline.length === 0) return <p className="empty">No phase changes recorded yet.</p>;
  const rows = timeline.map((t) => {
    const running = t.endedAt === null;
    const ms = t.durationMs ?? (running && active ? Math.max(0, now - t.startedAt) : null);
    return { t, ms, running: running && active };
  });
  // A floor of a minute keeps a lone, just-started phase from filling the track.
  const max = Math.max(60_000, ...rows.map((r) => r.ms ?? 0));
  return (
    <ul className="timeline" aria-label="Phase durations">
      {rows.map(({ t, ms, running }) => (
        <li
          key={`${t.phase}-${t.startedAt}-${t.loop ?? 0}`}
          className={running ? 'tl-row running' : 'tl-row'}
        >
          <span className="tl-name" title={t.phase}>
            {t.phaseNumber !== null && (
              <span className="muted">{t.phaseNumber.split('/')[0]} </span>
            )}
            {t.phase}
            {(t.loop ?? 0) > 0 && <span className="tl-loop"> ↻ loop {t.loop}</span>}
          </span>
          <span className="tl-track">
            <span className="tl-bar" style={{ width: `${((ms ?? 0) / max) * 100}%` }} />
          </span>
          <span className="tl-dur">
            {formatDuration(ms)}
            {running && ' …'}
          </span>
        </li>
      ))}
    </ul>
  );
}
