import { Text } from 'ink';
import { useEffect, useState } from 'react';
import { age, clock } from './format.ts';

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** Re-renders every 15 s so ages stay true without a state change. */
function useTick(now: () => number): number {
  const [t, setT] = useState(now);
  useEffect(() => {
    const timer = setInterval(() => setT(now()), 15_000);
    return () => clearInterval(timer);
  }, [now]);
  return t;
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

/**
 * The spinner, when the plans last changed (a quiet folder is not stale),
 * the source's trouble when it has one (the only "stale" there is: the
 * watcher lost, the folder gone, reading failing) and the key hints.
 */
export function Footer({
  loadedAt,
  changedAt,
  sourceError,
  refreshing,
  hints,
  now,
}: {
  loadedAt: number | null;
  /** Newest change among the plans' files. */
  changedAt: number | null;
  /** Set while the data source is not working. */
  sourceError: string | null;
  refreshing: boolean;
  hints: string;
  now: () => number;
}) {
  const t = useTick(now);
  return (
    <Text wrap="truncate">
      {refreshing ? (
        <Spinner />
      ) : (
        <Text color="gray">
          {loadedAt === null
            ? 'Loading…'
            : `Last updated: ${clock(loadedAt)} · changed ${changedAt ? `${age(t - changedAt)} ago` : '—'}`}
        </Text>
      )}
      {sourceError !== null && !refreshing ? (
        <Text color="yellow"> ⚠ Stale: {sourceError}</Text>
      ) : null}
      <Text color="gray"> {hints}</Text>
    </Text>
  );
}
