import { Box, Text } from 'ink';
import { memo } from 'react';
import { type Alert, alertLabel } from '../../shared/attention.ts';
import { age, clock, fit, windowAround } from './format.ts';

const SEVERITY = {
  critical: { icon: '●', color: 'red' },
  warning: { icon: '●', color: 'yellow' },
  info: { icon: '●', color: 'green' },
} as const;

/** "since 12:03:10 (4m)": when the condition started to hold. */
export function sinceText(since: number, now: number): string {
  return `since ${clock(since)} (${age(now - since)})`;
}

/**
 * The attention queue: what needs a person first (most severe, then oldest),
 * with the reason and since when; `a` acknowledges, `z`/`Z` snooze.
 */
export const AttentionView = memo(function AttentionView({
  queue,
  connected,
  url,
  cursor,
  height,
  width,
  now,
}: {
  queue: Alert[];
  connected: boolean;
  url: string | null;
  cursor: number;
  height: number;
  width: number;
  now: number;
}) {
  if (url === null) {
    return (
      <Box flexDirection="column">
        <Text bold>Attention</Text>
        <Text>Alerts (stalled, looping, spending without progress, waiting for you, failed)</Text>
        <Text>come from a running Livestream server: livestream plans --connect URL</Text>
      </Box>
    );
  }
  const [from, to] = windowAround(cursor, queue.length, Math.max(1, Math.floor((height - 1) / 2)));
  return (
    <Box flexDirection="column">
      <Text wrap="truncate">
        <Text bold>Needs you</Text> ({queue.length}) from {url}
        {connected ? '' : ' (disconnected: the last known queue)'}
      </Text>
      {queue.length === 0 ? <Text color="gray">Nothing needs you right now.</Text> : null}
      {queue.slice(from, to).map((a, i) => {
        const s = SEVERITY[a.severity];
        const selected = from + i === cursor;
        return (
          <Box key={a.id} flexDirection="column">
            <Text inverse={selected} wrap="truncate">
              <Text color={s.color}>{s.icon}</Text> {fit(a.sessionId, 24).padEnd(24)}{' '}
              {alertLabel(a.kind).padEnd(22)} {sinceText(a.since, now)}
            </Text>
            <Text color="gray" wrap="truncate">
              {'  '}
              {fit(a.reason, Math.max(10, width - 3))}
            </Text>
          </Box>
        );
      })}
    </Box>
  );
});
