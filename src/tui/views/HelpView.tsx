import { Box, Text } from 'ink';
import type { ActionsConfig } from '../../shared/plan-actions.ts';

const KEYS: [string, string][] = [
  ['↑/↓ or k/j', 'move'],
  ['Enter', 'open the selected plan'],
  ['b or Esc', 'back'],
  ['Tab', 'switch between Plans and Builds'],
  ['n', 'execute next (plan screen)'],
  ['s', 'create subplan for the selected achievement'],
  ['e', 'create execution for the selected achievement'],
  ['x', 'close the action output'],
  ['!', 'attention: what needs you first (from --connect)'],
  ['a', 'acknowledge the selected alert (attention screen)'],
  ['z / Z', 'snooze the selected alert 30 minutes / 4 hours'],
  ['r', 'refresh: clear caches and reload everything'],
  ['?', 'this help'],
  ['q', 'quit'],
];

/** Keys and the configured action commands. */
export function HelpView({ config, watch }: { config: ActionsConfig; watch: string }) {
  return (
    <Box flexDirection="column">
      <Text bold>Keys</Text>
      {KEYS.map(([key, what]) => (
        <Text key={key}>
          {'  '}
          <Text bold>{key.padEnd(12)}</Text> {what}
        </Text>
      ))}
      <Text bold>
        Actions (from {config.source}, run in {config.cwd})
      </Text>
      {Object.entries(config.commands).map(([name, argv]) => (
        <Text key={name} wrap="truncate">
          {'  '}
          {name.padEnd(16)} {argv.join(' ')}
        </Text>
      ))}
      <Text color="gray">Watching: {watch}. Press ? or b to go back.</Text>
    </Box>
  );
}
