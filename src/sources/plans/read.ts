import type { Dirent } from 'node:fs';
import { existsSync, statSync } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import { ambiguousNumbers, numberTable } from '../../core/plans/ids.ts';
import {
  classifyFile,
  declaredAchievement,
  declaredDate,
  declaredEffortHours,
  parseAchievementIndex,
} from '../../core/plans/parse.ts';
import type { PlanFile, PlanFileDir, PlanInput } from '../../core/plans/types.ts';
import { readBounded } from '../read-file.ts';
import { commitTimes } from './git-history.ts';

/** PLAN files over this size are not parsed (a PLAN is a few hundred lines). */
const MAX_PLAN_BYTES = 4 * 1024 * 1024;
/** How much of an ambiguously named file is read to find its declared achievement. */
const DECLARATION_BYTES = 4096;
/** Plan folders read at once. */
const CONCURRENCY = 16;

/**
 * The folder that holds the plan folders: `DIR/work-space/plans` when DIR is a
 * project, else DIR itself.
 */
export function resolvePlansDir(dir: string): string {
  const nested = join(dir, 'work-space', 'plans');
  try {
    if (statSync(nested).isDirectory()) return nested;
  } catch {
    // not a project root: DIR holds the plans
  }
  return dir;
}

/** The project the plans belong to (scripts run there): the folder above `work-space/plans`. */
export function projectRootOf(plansDir: string): string {
  const parent = join(plansDir, '..');
  return basename(plansDir) === 'plans' && basename(parent) === 'work-space' && existsSync(parent)
    ? join(parent, '..')
    : plansDir;
}

const isPlanFile = (name: string) => /^PLAN_.+\.md$/i.test(name);

async function list(dir: string): Promise<Dirent[]> {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

const isWorkDir = (e: Dirent) =>
  e.isDirectory() && (e.name === 'subplans' || e.name === 'execution');
/** Folders never searched for plans. */
const SKIP = new Set(['node_modules', 'documentation', 'observability', 'observations']);
/** How deep grouping folders may nest (`plans/a_paused/…/<PLAN>`). */
const MAX_DEPTH = 6;

/**
 * The plan folders under a plans folder, at any depth. A folder holding
 * subplans/ or execution/ is a plan (its sub-folders are not searched: old
 * copies inside a plan are part of it). A folder holding only a PLAN_*.md is a
 * plan unless folders below it are plans: then it is a grouping folder
 * (`a_paused/`, `a_real-use-cases/`) and its PLAN file a stray, not a plan.
 */
export async function discoverPlans(plansDir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string, depth: number): Promise<boolean> => {
    const entries = await list(dir);
    if (depth > 0 && entries.some(isWorkDir)) {
      found.push(dir);
      return true;
    }
    const subdirs = entries.filter(
      (d) => d.isDirectory() && !d.name.startsWith('.') && !SKIP.has(d.name),
    );
    let below = false;
    if (depth < MAX_DEPTH) {
      const results: boolean[] = [];
      await mapLimit(subdirs, CONCURRENCY, async (d) => {
        results.push(await walk(join(dir, d.name), depth + 1));
      });
      below = results.some(Boolean);
    }
    if (!below && depth > 0 && entries.some((e) => e.isFile() && isPlanFile(e.name))) {
      found.push(dir);
      return true;
    }
    return below;
  };
  await walk(plansDir, 0);
  return found.sort();
}

/** The grouping folder of a plan: its parent's path relative to the plans folder, null at the top. */
export function groupOf(plansDir: string, planDir: string): string | null {
  const rel = relative(plansDir, dirname(planDir)).split(sep).join('/');
  return rel === '' || rel.startsWith('..') ? null : rel;
}

/** Whether a folder is a grouping of plans rather than a plan (a plan folder lies below it). */
async function isGrouping(entries: Dirent[], path: string): Promise<boolean> {
  if (entries.some(isWorkDir)) return false;
  for (const d of entries) {
    if (!d.isDirectory() || d.name.startsWith('.')) continue;
    const inner = await list(join(path, d.name));
    if (inner.some(isWorkDir) || inner.some((e) => e.isFile() && isPlanFile(e.name))) return true;
  }
  return false;
}

async function statFiles(dir: string, kind: PlanFileDir, warnings: string[]): Promise<PlanFile[]> {
  const entries = (await list(dir)).filter((e) => e.isFile() && e.name.endsWith('.md'));
  const files: PlanFile[] = [];
  await mapLimit(entries, 64, async (e) => {
    try {
      const s = await stat(join(dir, e.name));
      files.push({ dir: kind, name: e.name, mtimeMs: s.mtimeMs });
    } catch (error) {
      // Deleted between listing and stat: it is simply gone.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        warnings.push(`Cannot read ${kind}/${e.name}: ${(error as Error).message}`);
      }
    }
  });
  return files;
}

async function readHead(path: string): Promise<string> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(DECLARATION_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, DECLARATION_BYTES, 0);
    return buffer.toString('utf8', 0, bytesRead);
  } finally {
    await handle.close();
  }
}

/**
 * Reads one plan folder into the inputs of `derivePlan`; null when the folder
 * no longer exists. Never throws: unreadable parts become warnings.
 */
export async function readPlanFolder(
  path: string,
  id = basename(path),
  group: string | null = null,
): Promise<PlanInput | null> {
  const top = await readdir(path, { withFileTypes: true }).catch(() => null);
  if (!top) return null;
  if (await isGrouping(top, path)) return null;
  const warnings: string[] = [];
  const planNames = top.filter((e) => e.isFile() && isPlanFile(e.name)).map((e) => e.name);
  const planFile =
    planNames.find((n) => n === `PLAN_${basename(path)}.md`) ?? planNames.sort()[0] ?? null;
  const [plan, parallel, subplans, executions, feedbacks, committed] = await Promise.all([
    planFile ? readBounded(join(path, planFile), MAX_PLAN_BYTES) : null,
    top.some((e) => e.name === 'parallel.json') ? readBounded(join(path, 'parallel.json')) : null,
    statFiles(join(path, 'subplans'), 'subplans', warnings),
    statFiles(join(path, 'execution'), 'execution', warnings),
    statFiles(join(path, 'execution', 'feedbacks'), 'feedbacks', warnings),
    commitTimes(path),
  ]);
  if (plan && !plan.ok && plan.code !== 'empty') warnings.push(plan.message);
  if (parallel && !parallel.ok && parallel.code !== 'missing') warnings.push(parallel.message);
  const planText = plan?.ok ? plan.text : plan ? '' : null;
  const files = [...subplans, ...executions, ...feedbacks];
  if (committed) {
    for (const file of files) {
      const rel =
        file.dir === 'feedbacks' ? `execution/feedbacks/${file.name}` : `${file.dir}/${file.name}`;
      file.committedAt = committed.get(rel) ?? null;
    }
  }
  // Feedback files say when they were written; their dates order reviews where mtimes cannot.
  await mapLimit(feedbacks, 16, async (file) => {
    file.declaredAt = await readHead(join(path, 'execution', 'feedbacks', file.name))
      .then(declaredDate)
      .catch(() => null);
  });

  // SUBPLANs declare their effort in the header: the hours left when parallel.json has none.
  await mapLimit(subplans, 16, async (file) => {
    file.effortHours = await readHead(join(path, 'subplans', file.name))
      .then(declaredEffortHours)
      .catch(() => null);
  });

  // Only files whose number names several indexed achievements are opened.
  if (planText) {
    const ids = parseAchievementIndex(planText).entries.map((e) => e.id);
    const ambiguous = ambiguousNumbers(numberTable(ids));
    if (ambiguous.size > 0) {
      await mapLimit(files, 16, async (file) => {
        const kind = classifyFile(file.dir, file.name);
        if (!kind || !ambiguous.has(kind.num)) return;
        const dir = file.dir === 'feedbacks' ? join('execution', 'feedbacks') : file.dir;
        file.declared = await readHead(join(path, dir, file.name))
          .then(declaredAchievement)
          .catch(() => null);
      });
    }
  }
  return {
    id,
    path,
    group,
    planFile,
    planText,
    planMtimeMs: plan ? (plan.mtimeMs ?? null) : null,
    // A failed read (mid-write, too large) counts as no parallel.json; the reason is a warning.
    parallelText: parallel?.ok ? parallel.text : null,
    parallelMtimeMs: parallel ? (parallel.mtimeMs ?? null) : null,
    files,
    readWarnings: warnings,
    readAt: Date.now(),
  };
}

/** Runs `fn` over `items` with at most `limit` at a time. */
export async function mapLimit<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
