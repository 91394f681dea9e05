import type { SessionStatus } from '../../../src/shared/model.ts';
import { useNow } from '../lib/now.ts';
import { isStale } from './SessionRow.tsx';
import { StateBadge } from './StateBadge.tsx';

/** The state badge, re-checking staleness (5 min without change while running) every second. */
export function LiveStateBadge({ s }: { s: SessionStatus }) {
  const now = useNow();
  return <StateBadge state={s.state} status={s.status} stale={isStale(s, now)} />;
}
