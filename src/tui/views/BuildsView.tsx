import { Box, Text } from 'ink';
import { memo } from 'react';
import type { BuildsState } from '../controller.ts';
import { fit, windowAround } from './format.ts';

const STATE_COLOR = { active: 'yellow', completed: 'green', failed: 'red' } as const;

/** Live build sessions from a running server, or how to get them. */
export const BuildsView = memo(function BuildsView({
  builds,
  cursor,
  height,
  width,
}: {
  builds: BuildsState;
  cursor: number;
  height: number;
  width: number;
}) {
  if (builds.url === null) {
    return (
      <Box flexDirection="column">
        <Text bold>Builds</Text>
        <Text>Live build sessions come from a running Livestream server:</Text>
        <Text> 1. in your projects folder run: livestream serve</Text>
        <Text> 2. start this dashboard with: livestream plans --connect http://127.0.0.1:8080</Text>
      </Box>
    );
  }
  const status =
    builds.status === 'connected'
      ? { text: 'connected', color: 'green' }
      : builds.status === 'connecting'
        ? { text: 'connecting…', color: 'yellow' }
        : {
            text: `disconnected${builds.error ? `: ${builds.error}` : ''} (retrying)`,
            color: 'red',
          };
  const [from, to] = windowAround(cursor, builds.sessions.length, Math.max(1, height - 3));
  const detailWidth = Math.max(10, width - 24 - 22 - 8 - 14);
  return (
    <Box flexDirection="column">
      <Text wrap="truncate">
        <Text bold>Builds</Text> from {builds.url} <Text color={status.color}>{status.text}</Text>
      </Text>
      <Text bold wrap="truncate">
        {'Session'.padEnd(24)} {'Phase'.padEnd(22)} {'Step'.padEnd(8)} {'Status'.padEnd(13)} Detail
      </Text>
      {builds.sessions.length === 0 ? <Text color="gray">No build sessions yet.</Text> : null}
      {builds.sessions.slice(from, to).map((s, i) => (
        <Text key={s.id} inverse={from + i === cursor} wrap="truncate">
          {fit(s.id, 24).padEnd(24)} {fit(s.currentPhase, 22).padEnd(22)}{' '}
          {(s.phaseNumber.raw ?? '?').padEnd(8)}{' '}
          <Text color={STATE_COLOR[s.state]}>{fit(s.status, 13).padEnd(13)}</Text>{' '}
          {fit(s.progressDetail ?? '', detailWidth)}
        </Text>
      ))}
    </Box>
  );
});
