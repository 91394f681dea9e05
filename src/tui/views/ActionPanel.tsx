import { Box, Text } from 'ink';
import { memo } from 'react';
import type { ActionRun } from '../../shared/plan-actions.ts';

/** Output and exit status of the last action. */
export const ActionPanel = memo(function ActionPanel({
  run,
  lines,
}: {
  run: ActionRun;
  lines: number;
}) {
  const status = run.running
    ? { text: 'running…', color: 'yellow' }
    : run.error
      ? { text: run.error, color: 'red' }
      : run.exitCode === 0
        ? { text: 'exited 0 ✔', color: 'green' }
        : { text: `exited ${run.exitCode} ✖`, color: 'red' };
  return (
    <Box flexDirection="column" borderStyle="single" borderColor={status.color}>
      <Text wrap="truncate">
        <Text bold>{run.label}</Text> <Text color={status.color}>{status.text}</Text>
        {run.running ? '' : <Text color="gray"> (x to close)</Text>}
      </Text>
      {run.argv.length > 0 ? (
        <Text color="gray" wrap="truncate">
          $ {run.argv.join(' ')}
        </Text>
      ) : null}
      {run.lines.slice(-Math.max(0, lines)).map((line, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: output lines have no identity besides position
        <Text key={i} wrap="truncate">
          {line}
        </Text>
      ))}
    </Box>
  );
});
