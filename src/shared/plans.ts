/** The plan model (work-space/plans/<PLAN>/), shared by server, web and TUI. */

/** Per-achievement status, strongest first. */
export type AchievementStatus =
  | 'approved'
  | 'fix_pending'
  | 'in_progress'
  | 'ready'
  | 'not_started';

export interface Achievement {
  /** Dotted id as in the index: "1.2", "1.10", "11.0" — never collapsed. */
  id: string;
  /** Title from the index (markdown and emoji kept); null for unindexed files. */
  title: string | null;
  /** False when files exist for an achievement the index does not list. */
  indexed: boolean;
  status: AchievementStatus;
  subplans: string[];
  executions: string[];
  approvals: string[];
  fixes: string[];
  /** `FIX_…_RESOLUTION.md` files: answers to a FIX, which close it. */
  resolutions: string[];
  /** A FIX with no later APPROVED or resolution. */
  fixOpen: boolean;
  /** What to do next, in words ("Create subplan", "Address FIX_12.md", ...). */
  nextAction: string | null;
  dependencies: string[];
  priority: string | null;
  estimatedHours: number | null;
}

export type PlanStatus = 'needs_attention' | 'in_progress' | 'ready' | 'complete' | 'not_started';

export interface PlanStats {
  subplansCreated: number;
  subplansWaiting: number;
  executionsComplete: number;
  executionsActive: number;
  approvals: number;
  fixes: number;
  fixesOpen: number;
}

export interface PlanSummary {
  /** The plan folder's name. */
  id: string;
  /** The grouping folder the plan lies in (`a_paused`, `a_real-use-cases`); null at the top of the plans folder. */
  group: string | null;
  name: string;
  status: PlanStatus;
  progress: { done: number; total: number };
  /** Last approved achievement in index order. */
  last: string | null;
  /** Earliest unfinished achievements in index order (dependencies respected). */
  next: string[];
  needsAttention: boolean;
  /** Newest mtime among the plan's files. */
  changedAt: number;
}

export interface PlanDetail extends PlanSummary {
  path: string;
  achievements: Achievement[];
  /** Groups of achievements that may run in parallel (from parallel.json). */
  parallelGroups: string[][];
  stats: PlanStats;
  health: { level: 'good' | 'warning' | 'bad'; reasons: string[] } & PlanHealthScore;
  /** Hours the parallel groups save on the work left; null when they save nothing. */
  savings: PlanSavings | null;
  warnings: string[];
}

/** A plan's health score and the figures behind it (see core/plans/health.ts). */
export interface PlanHealthScore {
  /** 0–100: completion, no open FIX, no idle execution, a clean folder. */
  score: number;
  /** Executions with no verdict and no write for a week, as of the read. */
  idleExecutions: string[];
  /** Estimated hours of the unfinished achievements that have an estimate; null when none has. */
  hoursLeft: number | null;
  /** Unfinished achievements without an estimate (their hours are not in `hoursLeft`). */
  unestimated: number;
}

/** Sequential vs group-by-group hours for the work left. */
export interface PlanSavings {
  sequentialHours: number;
  parallelHours: number;
  savedHours: number;
}

const hours = (h: number) => `${h} h`;

/** "7.5 h of work left (+1 unestimated)", for the TUI and web alike; null when nothing is left or known. */
export function describeWorkLeft(health: PlanHealthScore): string | null {
  if (health.hoursLeft === null) {
    return health.unestimated > 0 ? `${health.unestimated} unfinished, no estimates` : null;
  }
  return `${hours(health.hoursLeft)} of work left${health.unestimated > 0 ? ` (+${health.unestimated} unestimated)` : ''}`;
}

/** "parallel groups save 3 h (7.5 h → 4.5 h)"; null when they save nothing. */
export function describeSavings(savings: PlanSavings | null): string | null {
  if (!savings || savings.savedHours <= 0) return null;
  return `parallel groups save ${hours(savings.savedHours)} (${hours(savings.sequentialHours)} → ${hours(savings.parallelHours)})`;
}
