import { Box, Text } from 'ink';
import { memo } from 'react';
import type { PlanDetail } from '../../shared/plans.ts';
import { bar, fit, PLAN_STATUS, windowAround } from './format.ts';

interface Props {
  plans: PlanDetail[];
  cursor: number;
  /** Rows available for the table body. */
  height: number;
  width: number;
  loaded: boolean;
  plansDir: string;
}

/** The plans table: `# | Plan | Progress | Last | Next | Status`. */
export const PlansList = memo(function PlansList({
  plans,
  cursor,
  height,
  width,
  loaded,
  plansDir,
}: Props) {
  if (!loaded) return <Text color="gray">Reading {plansDir}…</Text>;
  if (plans.length === 0) {
    return (
      <Box flexDirection="column">
        <Text>No plans in {plansDir}.</Text>
        <Text color="gray">
          A plan is a folder holding PLAN_&lt;NAME&gt;.md (and subplans/, execution/).
        </Text>
      </Box>
    );
  }
  const nameWidth = Math.max(12, width - 4 - 16 - 8 - 14 - 20 - 6);
  const [from, to] = windowAround(cursor, plans.length, Math.max(1, height - 1));
  const row = (n: string, plan: string, progress: string, last: string, next: string) =>
    `${n.padStart(3)} ${fit(plan, nameWidth).padEnd(nameWidth)} ${progress.padEnd(16)} ${fit(last, 7).padEnd(7)} ${fit(next, 13).padEnd(13)} `;
  return (
    <Box flexDirection="column">
      <Text bold>
        {row('#', 'Plan', 'Progress', 'Last', 'Next')}
        Status
      </Text>
      {plans.slice(from, to).map((p, i) => {
        const index = from + i;
        const s = PLAN_STATUS[p.status];
        const selected = index === cursor;
        return (
          <Text key={p.id} inverse={selected} wrap="truncate">
            {row(
              String(index + 1),
              p.id,
              bar(p.progress.done, p.progress.total, 8),
              p.last ?? '—',
              p.next.join(', ') || '—',
            )}
            <Text color={s.color}>{s.label}</Text>
          </Text>
        );
      })}
    </Box>
  );
});
