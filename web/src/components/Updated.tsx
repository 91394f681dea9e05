import { useNow } from '../lib/now.ts';
import { formatAgo, freshness } from '../lib/time.ts';

/** "Updated: N s ago", green under 5 s, yellow under 30 s, red after. */
export function Updated({ at, label = 'Updated' }: { at: number | null; label?: string }) {
  const now = useNow();
  const f = freshness(at, now);
  return (
    <span
      className={`updated fresh-${f}`}
      data-freshness={f}
      title={at ? new Date(at).toISOString() : undefined}
    >
      {at === null ? `${label}: not yet` : `${label}: ${formatAgo(at, now)}`}
    </span>
  );
}
