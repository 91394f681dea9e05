import { Box, Text } from 'ink';
import { memo } from 'react';
import type { PlanDetail } from '../../shared/plans.ts';
import { groupLabel } from '../order.ts';
import {
  age,
  bar,
  fit,
  fitMiddle,
  PLAN_STATUS,
  PLAN_STATUS_SHORT,
  windowAround,
} from './format.ts';

interface Props {
  plans: PlanDetail[];
  cursor: number;
  /** Rows available for the table body. */
  height: number;
  width: number;
  loaded: boolean;
  /** The plans folder, or "from <server>". */
  where: string;
  /** For the "changed … ago" column. */
  now: number;
}

/** The plans table: `# | Plan | Progress | Last | Next | Status`. */
export const PlansList = memo(function PlansList({
  plans,
  cursor,
  height,
  width,
  loaded,
  where,
  now,
}: Props) {
  // Plans show as they are read; the list is empty only until the first one is in.
  if (!loaded && plans.length === 0) return <Text color="gray">Reading {where}…</Text>;
  if (plans.length === 0) {
    return (
      <Box flexDirection="column">
        <Text>No plans {where.startsWith('from ') ? where : `in ${where}`}.</Text>
        <Text color="gray">
          A plan is a folder holding PLAN_&lt;NAME&gt;.md (and subplans/, execution/).
        </Text>
      </Box>
    );
  }
  // 80 columns: # name progress age next status. The name takes what is left, cut in
  // the middle so plans with a shared prefix stay apart; the next step is never cut
  // below 14 cells; status words shorten on narrow screens.
  const wide = width >= 110;
  const statusWidth = wide ? 18 : 8;
  const nextWidth = Math.max(14, Math.floor((width - 40) / 3));
  // The last approved achievement needs a column only where there is room for it.
  const lastWidth = wide ? 8 : 0;
  const nameWidth = Math.max(12, width - 4 - 13 - 4 - lastWidth - nextWidth - statusWidth - 5);
  const [from, to] = windowAround(cursor, plans.length, Math.max(1, height - 1));
  const row = (
    n: string,
    plan: string,
    progress: string,
    changed: string,
    last: string,
    next: string,
  ) =>
    `${n.padStart(3)} ${plan.padEnd(nameWidth)} ${progress.padEnd(13)} ${changed.padStart(3)} ${lastWidth ? `${fit(last, lastWidth - 1).padEnd(lastWidth - 1)} ` : ''}${fit(next, nextWidth).padEnd(nextWidth)} `;
  return (
    <Box flexDirection="column">
      <Text bold wrap="truncate">
        {row('#', 'Plan', 'Progress', 'Chg', 'Last', 'Next')}
        Status
      </Text>
      {plans.slice(from, to).map((p, i) => {
        const index = from + i;
        const s = PLAN_STATUS[p.status];
        const selected = index === cursor;
        const tag = p.group === null ? '' : ` ·${groupLabel(p.group)}`;
        const name = fitMiddle(p.id, Math.max(8, nameWidth - Math.min(tag.length, 10)));
        return (
          <Text key={p.id} inverse={selected} wrap="truncate">
            {row(
              String(index + 1),
              fit(`${name}${tag}`, nameWidth),
              bar(p.progress.done, p.progress.total, 6),
              age(now - p.changedAt),
              p.last ?? '—',
              p.next.join(', ') || '—',
            )}
            <Text color={s.color}>{wide ? s.label : PLAN_STATUS_SHORT[p.status]}</Text>
          </Text>
        );
      })}
    </Box>
  );
});
