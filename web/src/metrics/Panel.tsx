import type { ReactNode } from 'react';
import type { Section } from '../../../src/shared/metrics.ts';
import { Updated } from '../components/Updated.tsx';

/**
 * A metrics panel: header with its freshness, then either the content or, when
 * the section has no source data, the reason in words.
 */
export function Panel<T>({
  id,
  title,
  section,
  updatedAt,
  error,
  children,
}: {
  id: string;
  title: string;
  section: Section<T> | null | undefined;
  updatedAt: number | null;
  /** Why the last refresh failed, when it did. */
  error?: string | null;
  children: (data: T) => ReactNode;
}) {
  let body: ReactNode;
  if (section === undefined) body = <p className="empty">Loading…</p>;
  else if (section === null)
    body = <p className="empty degraded">No metrics for this session yet.</p>;
  else if (section.data === null)
    body = (
      <p className="empty degraded" data-testid="reason">
        <span aria-hidden="true">⚠ </span>Not available: {section.reason}
      </p>
    );
  else body = children(section.data);
  return (
    <section className="card panel" data-panel={id} aria-labelledby={`${id}-h`}>
      <div className="card-head">
        <h3 id={`${id}-h`}>{title}</h3>
        <Updated at={updatedAt} />
      </div>
      {error && (
        <p className="warn small" role="status">
          Refresh failed: {error}
        </p>
      )}
      {body}
    </section>
  );
}
