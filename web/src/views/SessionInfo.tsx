import type { SessionStatus } from '../../../src/shared/model.ts';
import { formatDateTime } from '../lib/time.ts';

function show(value: unknown): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

/** Facts about the session, its input warnings and the producer's extra fields (kept, shown). */
export function SessionInfo({ s }: { s: SessionStatus }) {
  const extras = Object.entries(s.extras);
  return (
    <div className="info">
      <dl className="facts">
        <dt>Status</dt>
        <dd>{s.status}</dd>
        <dt>Detail</dt>
        <dd>{s.progressDetail ?? '—'}</dd>
        <dt>Test iteration</dt>
        <dd>{s.testIteration ?? '—'}</dd>
        <dt>Source</dt>
        <dd>{s.source}</dd>
        <dt>Machine</dt>
        <dd className="machine">{s.host ?? '—'}</dd>
        <dt>Project</dt>
        <dd className="path">{s.projectDir ?? '—'}</dd>
        <dt>Started (reported)</dt>
        <dd>{formatDateTime(s.startedAt)}</dd>
        <dt>First seen</dt>
        <dd>{formatDateTime(s.firstSeenAt)}</dd>
        {extras.map(([k, v]) => (
          <div key={k} className="extra">
            <dt>{k}</dt>
            <dd>{show(v)}</dd>
          </div>
        ))}
      </dl>
      {s.warnings.length > 0 && (
        <ul className="warnings" aria-label="Input warnings">
          {s.warnings.map((w) => (
            <li key={`${w.code}-${w.at}`}>
              <span aria-hidden="true">⚠ </span>
              <code>{w.code}</code> {w.message}{' '}
              <span className="muted">({formatDateTime(w.at)})</span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
