import { Text } from 'ink';
import { useEffect, useState } from 'react';
import { clock } from './format.ts';

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
/** Data older than this is flagged stale. */
export const STALE_MS = 5 * 60_000;

/** Minutes since `since` once past the stale limit, else null; re-renders only when that changes. */
function useStaleMinutes(since: number | null, now: () => number): number | null {
  const compute = () =>
    since !== null && now() - since > STALE_MS ? Math.floor((now() - since) / 60_000) : null;
  const [minutes, setMinutes] = useState(compute);
  // biome-ignore lint/correctness/useExhaustiveDependencies: compute reads since and now, the deps
  useEffect(() => {
    setMinutes(compute());
    const timer = setInterval(() => setMinutes(compute()), 15_000);
    return () => clearInterval(timer);
  }, [since, now]);
  return minutes;
}

/** A spinner that ticks only while shown. */
function Spinner() {
  const [frame, setFrame] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => setFrame((f) => (f + 1) % FRAMES.length), 100);
    return () => clearInterval(timer);
  }, []);
  return <Text color="cyan">{FRAMES[frame]} Refreshing…</Text>;
}

/** `Last updated: HH:MM:SS`, the spinner, the stale warning and the key hints. */
export function Footer({
  loadedAt,
  refreshing,
  hints,
  now,
}: {
  loadedAt: number | null;
  refreshing: boolean;
  hints: string;
  now: () => number;
}) {
  const stale = useStaleMinutes(loadedAt, now);
  return (
    <Text wrap="truncate">
      {refreshing ? (
        <Spinner />
      ) : (
        <Text color="gray">Last updated: {loadedAt === null ? '—' : clock(loadedAt)}</Text>
      )}
      {stale !== null && !refreshing ? (
        <Text color="yellow"> ⚠ Stale data ({stale}m old)</Text>
      ) : null}
      <Text color="gray"> {hints}</Text>
    </Text>
  );
}
