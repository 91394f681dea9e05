import { useNow } from '../lib/now.ts';
import { formatAgo, freshness } from '../lib/time.ts';

/**
 * "Updated: N s ago", green under 5 s, yellow under 30 s, red after. For a
 * finished session (`final`) age is not a warning: it stays neutral.
 */
export function Updated({
  at,
  label = 'Updated',
  final = false,
}: {
  at: number | null;
  label?: string;
  final?: boolean;
}) {
  const now = useNow();
  const f = final && at !== null ? 'final' : freshness(at, now);
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
