import type {
  Achievement,
  AchievementStatus,
  PlanDetail,
  PlanStats,
  PlanStatus,
  PlanSummary,
} from '../../shared/plans.ts';
import { type ActiveExecution, healthScore, parallelSavings } from './health.ts';
import { compareIds, majorsOf, numberTable, resolveNumber } from './ids.ts';
import { parallelGroups } from './parallel.ts';
import { classifyFile, type ParallelEntry, parseAchievementIndex, parseParallel } from './parse.ts';
import type { PlanInput } from './types.ts';

interface Stamped {
  name: string;
  mtimeMs: number;
  /** The date the file declares in its text, when it declares one. */
  declaredAt?: number | null;
  /** When version control last committed it; null when uncommitted in a repository. */
  committedAt?: number | null;
  /** The attempt its name declares (`_v2`, `_02`), 1 otherwise. */
  attempt?: number;
  /** For SUBPLANs: the hours it declares (`**Estimated Effort**:`). */
  effortHours?: number | null;
}

interface Acc {
  id: string;
  title: string | null;
  indexed: boolean;
  subplans: Stamped[];
  executions: Stamped[];
  approvals: Stamped[];
  fixes: Stamped[];
  resolutions: Stamped[];
}

const byReviewThenName = (a: Stamped, b: Stamped) =>
  reviewOrder(a, b) || (a.name < b.name ? -1 : 1);
const byName = (a: Stamped, b: Stamped) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** The effort the last SUBPLAN (in name order) declares, when one does. */
function declaredEffort(subplans: readonly Stamped[]): number | null {
  const last = [...subplans].sort(byName).findLast((f) => f.effortHours != null);
  return last?.effortHours ?? null;
}

/**
 * Orders two review files by when they were written: by the dates both
 * declare (`**Review Date**:`) when both declare one, then — between files of
 * one kind — by the attempt their names carry (`_v2`, `_02`), and only then
 * by version-control history when the folder is in a repository (an
 * uncommitted file is newer than a committed one), and only then by file
 * mtime — a copy (`cp -r`, a checkout) scrambles mtimes, while what a file
 * says about itself, and its history, survive. Returns <0 when `a` is older,
 * 0 when nothing tells them apart.
 */
export function reviewOrder(a: Stamped, b: Stamped): number {
  if (a.declaredAt != null && b.declaredAt != null && a.declaredAt !== b.declaredAt) {
    return a.declaredAt - b.declaredAt;
  }
  const sameKind = a.name.split('_')[0]?.toUpperCase() === b.name.split('_')[0]?.toUpperCase();
  const attempts = sameKind ? (a.attempt ?? 1) - (b.attempt ?? 1) : 0;
  if (attempts !== 0) return attempts;
  if (a.declaredAt != null && b.declaredAt != null) return 0;
  if (a.committedAt !== undefined && b.committedAt !== undefined) {
    if (a.committedAt === null || b.committedAt === null) {
      if (a.committedAt !== b.committedAt) return a.committedAt === null ? 1 : -1;
    } else if (a.committedAt !== b.committedAt) return a.committedAt - b.committedAt;
    else return 0;
  }
  return a.mtimeMs - b.mtimeMs;
}

const newestBy = (list: readonly Stamped[]): Stamped | null =>
  list.reduce<Stamped | null>((m, f) => (m === null || reviewOrder(f, m) > 0 ? f : m), null);

/**
 * A FIX is open while no APPROVED (or FIX_…_RESOLUTION) for the same
 * achievement is at least as new as the newest FIX, in `reviewOrder`. When
 * nothing tells them apart the closing file wins: a reviewer who writes both
 * on the same day has approved the fixed work.
 */
export function isFixOpen(approvals: readonly Stamped[], fixes: readonly Stamped[]): boolean {
  const fix = newestBy(fixes);
  if (!fix) return false;
  const closing = newestBy(approvals);
  return closing === null || reviewOrder(fix, closing) > 0;
}

/** Status, strongest first: approved, fix pending, in progress, ready to execute, not started. */
function statusOf(acc: Acc, fixOpen: boolean): AchievementStatus {
  if (fixOpen) return 'fix_pending';
  if (acc.approvals.length > 0) return 'approved';
  if (acc.executions.length > 0) return 'in_progress';
  if (acc.subplans.length > 0) return 'ready';
  return 'not_started';
}

function nextActionOf(acc: Acc, status: AchievementStatus): string | null {
  switch (status) {
    case 'approved':
      return null;
    case 'fix_pending':
      return `Address ${newestBy(acc.fixes)?.name}`;
    case 'in_progress':
      return `Finish ${[...acc.executions].sort(byName).at(-1)?.name} and request review`;
    case 'ready':
      return `Create execution from ${[...acc.subplans].sort(byName).at(-1)?.name}`;
    case 'not_started':
      return 'Create subplan';
  }
}

function planName(text: string | null, id: string): string {
  if (!text) return id;
  const m = /^#\s+(.+)$/m.exec(text.slice(0, 4096));
  const name = m ? (m[1] as string).replace(/^PLAN\s*[:\-–—]\s*/i, '').trim() : '';
  return name.length > 0 ? name : id;
}

/** Derives the full state of one plan from what its folder holds. Pure and linear in the number of files. */
export function derivePlan(input: PlanInput): PlanDetail {
  const warnings: string[] = [...(input.readWarnings ?? [])];
  const index = input.planText === null ? null : parseAchievementIndex(input.planText);
  if (input.planFile === null) warnings.push(`No PLAN_${input.id}.md in the plan folder.`);
  if (index) warnings.push(...index.warnings);
  const parallel = input.parallelText === null ? null : parseParallel(input.parallelText);
  if (parallel) warnings.push(...parallel.warnings);
  const parallelById = new Map<string, ParallelEntry>();
  for (const entry of parallel?.entries ?? []) parallelById.set(entry.id, entry);

  const entries = index?.entries ?? [];
  const ids = entries.map((e) => e.id);
  const table = numberTable(ids);
  const indexedSet = new Set(ids);
  const majors = majorsOf(ids);
  const accs = new Map<string, Acc>();
  const make = (id: string, title: string | null, indexed: boolean): Acc => {
    const acc: Acc = {
      id,
      title,
      indexed,
      subplans: [],
      executions: [],
      approvals: [],
      fixes: [],
      resolutions: [],
    };
    accs.set(id, acc);
    return acc;
  };
  for (const e of entries) make(e.id, e.title, true);

  const unknown = new Map<string, string[]>();
  for (const file of input.files) {
    const kind = classifyFile(file.dir, file.name);
    if (!kind) {
      const dir = file.dir === 'feedbacks' ? 'execution/feedbacks' : file.dir;
      unknown.set(dir, [...(unknown.get(dir) ?? []), file.name]);
      continue;
    }
    const resolved = resolveNumber(kind.num, table, indexedSet, majors, file.declared);
    if (!resolved) continue;
    if (resolved.ambiguousWith) {
      warnings.push(
        `${file.name} is ambiguous between ${resolved.ambiguousWith.join(' and ')}; counted for ${resolved.id}. Write "**Achievement**: <id>" in it or use a dotted name.`,
      );
    }
    const acc = accs.get(resolved.id) ?? make(resolved.id, null, resolved.indexed);
    const stamped: Stamped = {
      name: file.name,
      mtimeMs: file.mtimeMs,
      declaredAt: file.declaredAt ?? null,
      effortHours: file.effortHours ?? null,
      ...(file.committedAt !== undefined ? { committedAt: file.committedAt } : {}),
      attempt: kind.attempt,
    };
    if (kind.kind === 'subplan') acc.subplans.push(stamped);
    else if (kind.kind === 'execution') acc.executions.push(stamped);
    else if (kind.kind === 'approval') acc.approvals.push(stamped);
    else if (kind.kind === 'resolution') acc.resolutions.push(stamped);
    else acc.fixes.push(stamped);
  }
  for (const [dir, names] of unknown) {
    const sorted = names.sort();
    warnings.push(
      `${dir}/ holds ${sorted.length} file${sorted.length > 1 ? 's' : ''} that name${sorted.length > 1 ? '' : 's'} no achievement step: ${sorted.slice(0, 5).join(', ')}${sorted.length > 5 ? `, … (${sorted.length - 5} more)` : ''}.`,
    );
  }

  const ordered = [
    ...entries.map((e) => accs.get(e.id) as Acc),
    ...[...accs.values()].filter((a) => !a.indexed).sort((a, b) => compareIds(a.id, b.id)),
  ];
  const stats: PlanStats = {
    subplansCreated: 0,
    subplansWaiting: 0,
    executionsComplete: 0,
    executionsActive: 0,
    approvals: 0,
    fixes: 0,
    fixesOpen: 0,
  };
  const active: ActiveExecution[] = [];
  const achievements: Achievement[] = ordered.map((acc) => {
    const fixOpen = isFixOpen([...acc.approvals, ...acc.resolutions], acc.fixes);
    const status = statusOf(acc, fixOpen);
    const verdicts = [...acc.approvals, ...acc.fixes, ...acc.resolutions];
    stats.subplansCreated += acc.subplans.length;
    if (acc.executions.length === 0 && status !== 'approved')
      stats.subplansWaiting += acc.subplans.length;
    // Executions of an approved achievement are complete; otherwise one is complete once a
    // verdict at least as new as it exists (mtimes: executions declare no review date).
    const verdictAt = verdicts.reduce((m, f) => Math.max(m, f.mtimeMs), -Infinity);
    for (const ex of acc.executions) {
      if (status === 'approved' || verdictAt >= ex.mtimeMs) stats.executionsComplete++;
      else {
        stats.executionsActive++;
        active.push({ name: ex.name, writtenAt: ex.mtimeMs });
      }
    }
    stats.approvals += acc.approvals.length;
    stats.fixes += acc.fixes.length;
    if (fixOpen) stats.fixesOpen++;
    const p = parallelById.get(acc.id);
    return {
      id: acc.id,
      title: acc.title,
      indexed: acc.indexed,
      status,
      subplans: acc.subplans.sort(byName).map((f) => f.name),
      executions: acc.executions.sort(byName).map((f) => f.name),
      approvals: acc.approvals.sort(byReviewThenName).map((f) => f.name),
      fixes: acc.fixes.sort(byReviewThenName).map((f) => f.name),
      resolutions: acc.resolutions.sort(byReviewThenName).map((f) => f.name),
      fixOpen,
      nextAction: nextActionOf(acc, status),
      dependencies: p?.dependencies ?? [],
      priority: p?.priority ?? null,
      // parallel.json's estimate first, then what the newest SUBPLAN declares.
      estimatedHours: p?.estimatedHours ?? declaredEffort(acc.subplans),
    };
  });

  const byId = new Map(achievements.map((a) => [a.id, a]));
  const indexedList = achievements.filter((a) => a.indexed);
  const done = indexedList.filter((a) => a.status === 'approved').length;
  const listed = parallelById.size > 0 ? new Set(parallelById.keys()) : null;
  const next = nextAchievements(indexedList, byId, listed, warnings);
  const groups = parallelGroups(parallel?.entries ?? [], ids, warnings);
  const unindexed = achievements.filter((a) => !a.indexed);

  const total = indexedList.length;
  const complete = total > 0 && done === total;
  const status: PlanStatus =
    stats.fixesOpen > 0
      ? 'needs_attention'
      : complete
        ? 'complete'
        : achievements.some((a) => a.status === 'in_progress')
          ? 'in_progress'
          : achievements.some((a) => a.status === 'ready')
            ? 'ready'
            : done > 0 || achievements.some((a) => a.status === 'approved')
              ? 'in_progress'
              : 'not_started';

  const reasons: string[] = [];
  if (stats.fixesOpen > 0) {
    const open = achievements.filter((a) => a.fixOpen).map((a) => a.id);
    reasons.push(`${open.length} open FIX (${open.join(', ')})`);
  }
  if (unindexed.length > 0) {
    reasons.push(
      `Files for achievements the index does not list: ${unindexed.map((a) => a.id).join(', ')}`,
    );
  }
  for (const a of achievements) {
    if (a.executions.length >= 3 && a.status !== 'approved') {
      reasons.push(`${a.id} has taken ${a.executions.length} execution attempts`);
    }
  }
  if (warnings.length > 0)
    reasons.push(`${warnings.length} warning${warnings.length > 1 ? 's' : ''}`);
  const score = healthScore({
    achievements,
    active,
    fixesOpen: stats.fixesOpen,
    otherProblems: reasons.length - (stats.fixesOpen > 0 ? 1 : 0),
    asOf: input.readAt ?? null,
  });
  if (score.idleExecutions.length > 0) {
    reasons.push(
      `${score.idleExecutions.length} idle execution${score.idleExecutions.length > 1 ? 's' : ''} (no verdict for a week): ${score.idleExecutions.join(', ')}`,
    );
  }
  const level = stats.fixesOpen > 0 ? 'bad' : reasons.length > 0 ? 'warning' : 'good';

  let changedAt = Math.max(input.planMtimeMs ?? 0, input.parallelMtimeMs ?? 0);
  for (const f of input.files) if (f.mtimeMs > changedAt) changedAt = f.mtimeMs;
  const last = [...indexedList].reverse().find((a) => a.status === 'approved')?.id ?? null;

  return {
    id: input.id,
    group: input.group ?? null,
    name: planName(input.planText, input.id),
    status,
    progress: { done, total },
    last,
    next,
    needsAttention: status === 'needs_attention',
    // Whole epoch milliseconds, as documented: file systems report mtimes with a fraction.
    changedAt: Math.floor(changedAt),
    path: input.path,
    achievements,
    parallelGroups: groups,
    stats,
    health: { level, reasons, ...score },
    savings: parallelSavings(groups, achievements),
    warnings,
  };
}

/**
 * The earliest unfinished achievements in index order. Without parallel.json
 * that is the first one not approved. With it, every unfinished achievement
 * whose dependencies are approved; an achievement parallel.json does not list
 * depends on every achievement before it in the index. Dependencies on ids
 * that exist nowhere are ignored with a warning. When the dependencies leave
 * nothing startable (a cycle, or a dependency with an open FIX), the first
 * unfinished achievement is next, so the plan never looks finished.
 */
function nextAchievements(
  indexed: Achievement[],
  byId: Map<string, Achievement>,
  listed: ReadonlySet<string> | null,
  warnings: string[],
): string[] {
  const unfinished = indexed.filter((a) => a.status !== 'approved');
  const first = unfinished[0];
  if (!first) return [];
  if (!listed) return [first.id];
  const unknown = new Set<string>();
  const ready = unfinished.filter((a) => {
    const position = indexed.indexOf(a);
    const deps = listed.has(a.id) ? a.dependencies : indexed.slice(0, position).map((d) => d.id);
    return deps.every((dep) => {
      const target = byId.get(dep);
      if (!target) {
        unknown.add(dep);
        return true;
      }
      return target.status === 'approved';
    });
  });
  for (const dep of unknown) {
    warnings.push(
      `parallel.json names dependency ${dep}, which is neither in the index nor in the folder; ignored.`,
    );
  }
  return ready.length > 0 ? ready.map((a) => a.id) : [first.id];
}

/** The list view of a plan. */
export function summarize(detail: PlanDetail): PlanSummary {
  return {
    id: detail.id,
    group: detail.group,
    name: detail.name,
    status: detail.status,
    progress: detail.progress,
    last: detail.last,
    next: detail.next,
    needsAttention: detail.needsAttention,
    changedAt: detail.changedAt,
  };
}
