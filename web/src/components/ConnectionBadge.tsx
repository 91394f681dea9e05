import type { ClientState } from '../../../src/client/index.ts';
import { useNow } from '../lib/now.ts';
import { secondsUntil } from '../lib/time.ts';

/** Live, connecting, reconnecting (with a countdown to the next attempt) or offline. */
export function ConnectionBadge({ conn }: { conn: ClientState }) {
  const now = useNow();
  let text: string;
  switch (conn.status) {
    case 'live':
      text = 'Live';
      break;
    case 'connecting':
      text = 'Connecting…';
      break;
    case 'reconnecting':
      text =
        conn.nextAttemptAt === null
          ? `Reconnecting… (attempt ${conn.attempts})`
          : `Reconnecting in ${secondsUntil(conn.nextAttemptAt, now)} s (attempt ${conn.attempts})`;
      break;
    default:
      text = 'Offline';
  }
  return (
    <output className={`conn conn-${conn.status}`} data-status={conn.status} aria-live="polite">
      <span className="dot" aria-hidden="true" />
      {text}
    </output>
  );
}
