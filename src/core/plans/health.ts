import type { Achievement, PlanHealthScore, PlanSavings } from '../../shared/plans.ts';

/** An execution nobody has written to, and no verdict followed, for this long is idle. */
export const IDLE_MS = 7 * 24 * 3600 * 1000;

/** An execution still waiting for its verdict, and when it was last written. */
export interface ActiveExecution {
  name: string;
  writtenAt: number;
}

/**
 * The plan's health score, 0–100, and what it is made of:
 * 40 points for completion (approved / indexed), 25 for no open FIX,
 * 20 for no idle execution (10 lost per idle one), 15 for a clean folder
 * (no warnings, no unindexed work, no achievement past two attempts).
 * `asOf` is when the folder was read; executions written more than
 * `IDLE_MS` before it with no verdict after them are idle.
 */
export function healthScore(opts: {
  achievements: readonly Achievement[];
  active: readonly ActiveExecution[];
  fixesOpen: number;
  otherProblems: number;
  asOf: number | null;
}): PlanHealthScore {
  const indexed = opts.achievements.filter((a) => a.indexed);
  const done = indexed.filter((a) => a.status === 'approved').length;
  const idle =
    opts.asOf === null
      ? []
      : opts.active
          .filter((e) => (opts.asOf as number) - e.writtenAt > IDLE_MS)
          .map((e) => e.name)
          .sort();
  const left = indexed.filter((a) => a.status !== 'approved');
  const estimated = left.filter((a) => a.estimatedHours !== null);
  const completion = indexed.length > 0 ? (40 * done) / indexed.length : 0;
  const score = Math.round(
    completion +
      (opts.fixesOpen === 0 ? 25 : 0) +
      Math.max(0, 20 - 10 * idle.length) +
      (opts.otherProblems === 0 ? 15 : 0),
  );
  return {
    score,
    idleExecutions: idle,
    hoursLeft:
      estimated.length > 0
        ? round1(estimated.reduce((s, a) => s + (a.estimatedHours ?? 0), 0))
        : null,
    unestimated: left.length - estimated.length,
  };
}

/**
 * What the parallel groups save on the work left: run one after another,
 * the unfinished estimated achievements take the sum of their hours; run
 * group by group, each group takes its longest member. Null when no group
 * has two unfinished estimated achievements (nothing to save).
 */
export function parallelSavings(
  groups: readonly (readonly string[])[],
  achievements: readonly Achievement[],
): PlanSavings | null {
  const byId = new Map(achievements.map((a) => [a.id, a]));
  let sequential = 0;
  let parallel = 0;
  let shared = false;
  for (const group of groups) {
    const hours = group
      .map((id) => byId.get(id))
      .filter((a): a is Achievement => a !== undefined && a.status !== 'approved')
      .map((a) => a.estimatedHours)
      .filter((h): h is number => h !== null);
    if (hours.length === 0) continue;
    if (hours.length > 1) shared = true;
    sequential += hours.reduce((s, h) => s + h, 0);
    parallel += Math.max(...hours);
  }
  if (!shared) return null;
  return {
    sequentialHours: round1(sequential),
    parallelHours: round1(parallel),
    savedHours: round1(sequential - parallel),
  };
}

const round1 = (n: number) => Math.round(n * 10) / 10;
