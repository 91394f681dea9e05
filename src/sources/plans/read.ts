import type { Dirent } from 'node:fs';
import { existsSync, statSync } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { ambiguousNumbers, numberTable } from '../../core/plans/ids.ts';
import {
  classifyFile,
  declaredAchievement,
  parseAchievementIndex,
} from '../../core/plans/parse.ts';
import type { PlanFile, PlanFileDir, PlanInput } from '../../core/plans/types.ts';
import { readBounded } from '../read-file.ts';

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

const isPlanFile = (name: string) => name.startsWith('PLAN_') && name.endsWith('.md');

async function list(dir: string): Promise<Dirent[]> {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

/**
 * The plan folders in a plans folder: sub-folders holding a PLAN_*.md, a
 * subplans/ or an execution/ folder. Hidden folders are skipped.
 */
export async function discoverPlans(plansDir: string): Promise<string[]> {
  const dirs = (await list(plansDir)).filter((d) => d.isDirectory() && !d.name.startsWith('.'));
  const found: string[] = [];
  await mapLimit(dirs, CONCURRENCY, async (d) => {
    const path = join(plansDir, d.name);
    const entries = await list(path);
    if (
      entries.some(
        (e) =>
          (e.isFile() && isPlanFile(e.name)) ||
          (e.isDirectory() && (e.name === 'subplans' || e.name === 'execution')),
      )
    ) {
      found.push(path);
    }
  });
  return found.sort();
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
export async function readPlanFolder(path: string, id = basename(path)): Promise<PlanInput | null> {
  const top = await readdir(path, { withFileTypes: true }).catch(() => null);
  if (!top) return null;
  const warnings: string[] = [];
  const planNames = top.filter((e) => e.isFile() && isPlanFile(e.name)).map((e) => e.name);
  const planFile =
    planNames.find((n) => n === `PLAN_${basename(path)}.md`) ?? planNames.sort()[0] ?? null;
  const [plan, parallel, subplans, executions, feedbacks] = await Promise.all([
    planFile ? readBounded(join(path, planFile), MAX_PLAN_BYTES) : null,
    top.some((e) => e.name === 'parallel.json') ? readBounded(join(path, 'parallel.json')) : null,
    statFiles(join(path, 'subplans'), 'subplans', warnings),
    statFiles(join(path, 'execution'), 'execution', warnings),
    statFiles(join(path, 'execution', 'feedbacks'), 'feedbacks', warnings),
  ]);
  if (plan && !plan.ok && plan.code !== 'empty') warnings.push(plan.message);
  if (parallel && !parallel.ok && parallel.code !== 'missing') warnings.push(parallel.message);
  const planText = plan?.ok ? plan.text : plan ? '' : null;
  const files = [...subplans, ...executions, ...feedbacks];

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
    planFile,
    planText,
    planMtimeMs: plan ? (plan.mtimeMs ?? null) : null,
    // A failed read (mid-write, too large) counts as no parallel.json; the reason is a warning.
    parallelText: parallel?.ok ? parallel.text : null,
    parallelMtimeMs: parallel ? (parallel.mtimeMs ?? null) : null,
    files,
    readWarnings: warnings,
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
