import type { PlanDetail, PlanStatus } from '../shared/plans.ts';

/** Which plans the list shows: every one, one grouping folder (`null` = the top level), and a search. */
export interface PlanFilter {
  group: string | null | 'all';
  query: string;
}

const RANK: Record<PlanStatus, number> = {
  needs_attention: 0,
  in_progress: 1,
  ready: 2,
  not_started: 3,
  complete: 4,
};

/**
 * The plans in list order: those needing attention first, then work under
 * way, ready, not started, complete; within a rank the most recently changed
 * first, then by id. Pure.
 */
export function orderPlans(plans: readonly PlanDetail[], filter: PlanFilter): PlanDetail[] {
  const q = filter.query.trim().toLowerCase();
  return plans
    .filter((p) => filter.group === 'all' || p.group === filter.group)
    .filter(
      (p) =>
        q === '' ||
        p.id.toLowerCase().includes(q) ||
        p.name.toLowerCase().includes(q) ||
        (p.group ?? '').toLowerCase().includes(q),
    )
    .sort(
      (a, b) =>
        RANK[a.status] - RANK[b.status] ||
        b.changedAt - a.changedAt ||
        (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
    );
}

/** The grouping folders present, in name order; `null` (the top level) first when it holds plans. */
export function groupsOf(plans: readonly PlanDetail[]): (string | null)[] {
  const set = new Set(plans.map((p) => p.group));
  const named = [...set].filter((g): g is string => g !== null).sort();
  return set.has(null) ? [null, ...named] : named;
}

/** The next group filter after `current`: all → each group in turn → all. */
export function nextGroup(
  groups: readonly (string | null)[],
  current: PlanFilter['group'],
): PlanFilter['group'] {
  if (groups.length === 0) return 'all';
  if (current === 'all') return groups[0] as string | null;
  const i = groups.indexOf(current);
  return i < 0 || i === groups.length - 1 ? 'all' : (groups[i + 1] as string | null);
}

/** A grouping folder as a short label: `a_paused` → `paused`, `a_real-use-cases` → `real use cases`. */
export function groupLabel(group: string | null): string {
  if (group === null) return 'top level';
  const last = group.split('/').at(-1) ?? group;
  return last.replace(/^[a-z]_/, '').replace(/[-_]+/g, ' ');
}
