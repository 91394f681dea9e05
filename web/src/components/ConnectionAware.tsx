import { useConn } from '../lib/live.tsx';

/** A banner while the page is not live: what it shows may be behind. */
export function ConnectionAware() {
  const conn = useConn();
  if (conn.status === 'live' || conn.status === 'connecting') return null;
  return (
    <p className="banner" role="status">
      {conn.status === 'reconnecting'
        ? 'Connection lost: showing the last known state; it catches up as soon as the server answers.'
        : 'Offline: showing the last known state.'}
    </p>
  );
}
