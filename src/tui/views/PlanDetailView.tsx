import { Box, Text } from 'ink';
import { memo } from 'react';
import { describeSavings, describeWorkLeft, type PlanDetail } from '../../shared/plans.ts';
import { ACHIEVEMENT_STATUS, bar, PLAN_STATUS, windowAround } from './format.ts';
import { InlineMarkdown } from './Markdown.tsx';

interface Props {
  plan: PlanDetail;
  cursor: number;
  /** Rows available for the whole view. */
  height: number;
  width: number;
  actionBusy: boolean;
}

const HEALTH = {
  good: { label: '● Good', color: 'green' },
  warning: { label: '● Warning', color: 'yellow' },
  bad: { label: '● Bad', color: 'red' },
} as const;

/** Fixed lines around the achievements table. */
export const DETAIL_CHROME = 8;

/** One plan: status, health, quick stats, achievements, parallel groups and actions. */
export const PlanDetailView = memo(function PlanDetailView({
  plan,
  cursor,
  height,
  width,
  actionBusy,
}: Props) {
  const s = PLAN_STATUS[plan.status];
  const h = HEALTH[plan.health.level];
  const st = plan.stats;
  const selected = plan.achievements[cursor];
  const [from, to] = windowAround(
    cursor,
    plan.achievements.length,
    Math.max(1, height - DETAIL_CHROME),
  );
  const titleWidth = Math.max(10, width - 8 - 20 - 40);
  const work = describeWorkLeft(plan.health);
  const saved = describeSavings(plan.savings);
  const groups = plan.parallelGroups.map((g) => `[${g.join(', ')}]`).join(' → ');
  return (
    <Box flexDirection="column">
      <Text wrap="truncate">
        <Text bold>{plan.id}</Text>
        {plan.name !== plan.id ? <Text color="gray"> — {plan.name}</Text> : null}
      </Text>
      <Text wrap="truncate">
        Status: <Text color={s.color}>{s.label}</Text> Progress:{' '}
        {bar(plan.progress.done, plan.progress.total)} Last complete: {plan.last ?? '—'} Next:{' '}
        {plan.next.join(', ') || '—'}
      </Text>
      <Text wrap="truncate">
        Health: <Text color={h.color}>{h.label}</Text> {plan.health.score}/100
        {work ? ` · ${work}` : ''}
        {plan.health.reasons.length > 0 ? ` — ${plan.health.reasons.join('; ')}` : ''}
      </Text>
      <Text wrap="truncate">
        Subplans: {st.subplansCreated} created, {st.subplansWaiting} waiting · Executions:{' '}
        {st.executionsComplete} complete, {st.executionsActive} active · Approvals: {st.approvals} ·
        Fixes: {st.fixes} ({st.fixesOpen} open)
      </Text>
      <Text bold wrap="truncate">
        {'  ID     '}
        {'Title'.padEnd(titleWidth)} {'Status'.padEnd(19)} Next action
      </Text>
      {plan.achievements.length === 0 ? (
        <Text color="gray"> No achievements: the PLAN has no achievement index.</Text>
      ) : null}
      {plan.achievements.slice(from, to).map((a, i) => {
        const index = from + i;
        const as = ACHIEVEMENT_STATUS[a.status];
        return (
          <Text key={a.id} inverse={index === cursor} wrap="truncate">
            {index === cursor ? '› ' : '  '}
            {a.id.padEnd(6)}{' '}
            <InlineMarkdown text={a.title ?? '(not in the index)'} width={titleWidth} />{' '}
            <Text color={as.color}>{as.label.padEnd(19)}</Text> {a.nextAction ?? '—'}
          </Text>
        );
      })}
      <Text wrap="truncate" color="gray">
        Parallel groups: {groups || 'none (no parallel.json)'}
        {saved ? ` · ${saved}` : ''}
      </Text>
      <Text wrap="truncate">
        Actions{actionBusy ? ' (one is running)' : ''}: <Text bold>n</Text> execute next
        {plan.next[0] ? ` (${plan.next[0]})` : ''} · <Text bold>s</Text> create subplan
        {selected ? ` (${selected.id})` : ''} · <Text bold>e</Text> create execution
        {selected ? ` (${selected.id})` : ''}
      </Text>
    </Box>
  );
});
