import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { percentile, printTable } from './stats.ts';
import { closeDuringScan, inotifyLimit } from './watchers-suite-limits.ts';
import {
  installChokidar,
  type Report,
  startWorker,
  type Worker,
} from './watchers-suite-process.ts';
import { type Step, type WorkerConfig, writeSteps } from './watchers-suite-worker.ts';

/**
 * `npm run bench -- watchers-suite`: can chokidar replace our TreeWatch for
 * what Livestream needs? Both run in one run, each in its own worker process
 * (bench/watchers-suite-worker.ts), chokidar used as a user would
 * (`ignoreInitial` unless the start-up files are wanted, `depth: 20`,
 * `followSymlinks: false`, Livestream's ignore list), on:
 *  (a) the re-creation stress test of bench/watchers.ts (15 cycles, 120 writes);
 *  (b) write → event latency, writes from the watcher's process and from another;
 *  (c) first start over 2,000 and 20,000 project folders (`--quick`: 200, 2,000);
 *  (d) no file descriptor free, while running and from the start, then freed;
 *  (e) the inotify watch limit reached (user namespace), then raised;
 *  (f) closed while its first scan is in flight: handles left, process exit.
 * chokidar is installed at `CHOKIDAR` outside the checkout; TreeWatch is
 * src/sources/tree-watch.ts, or the module named by `WATCHERS_TREEWATCH`.
 * docs/watchers-suite.md keeps the results.
 */
export const CHOKIDAR = process.env.WATCHERS_CHOKIDAR ?? '6.0.0';
const TREEWATCH =
  process.env.WATCHERS_TREEWATCH ??
  join(import.meta.dirname, '..', 'src', 'sources', 'tree-watch.ts');
const quick = process.argv.includes('--quick');
const SIZES = quick ? [200, 2000] : [2000, 20_000];

const PLAN = 'p/work-space/plans/X';
const FOLDERS = ['subplans', 'execution/feedbacks'];
const PLAN_FILES = [
  'PLAN_X.md',
  'subplans/SUBPLAN_11.md',
  'execution/EXEC_11_01.md',
  'execution/feedbacks/FIX_11.md',
];
const phaseFile = (project: string) => `${project}/.context-foundry/current-phase.json`;

type Backend = { name: string; config: Pick<WorkerConfig, 'backend' | 'module'> };
type Rows = Record<string, number | string>;

const temps: string[] = [];
async function temp(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ls-bench-suite-'));
  temps.push(dir);
  return dir;
}

async function makeProjects(root: string, names: string[]): Promise<void> {
  for (let i = 0; i < names.length; i += 200) {
    await Promise.all(
      names.slice(i, i + 200).map(async (name, j) => {
        await mkdir(join(root, name, '.context-foundry'), { recursive: true });
        await writeFile(join(root, phaseFile(name)), '{"current_phase":"Builder"}');
        // One project in ten has dependencies: the ignore list must keep them out.
        if ((i + j) % 10 === 0) {
          await mkdir(join(root, name, 'node_modules', 'x'), { recursive: true });
          await writeFile(join(root, name, 'node_modules', 'x', 'current-phase.json'), '{}');
        }
      }),
    );
  }
}
const projects = (n: number, prefix = 'project-') =>
  Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(5, '0')}`);

const seen = (rel: string, size?: number) => (r: Report) =>
  r.rel === rel && (size === undefined || r.size === size);

/** Writes steps from the worker's own process, or from this one (another process). */
async function write(w: Worker, root: string, steps: Step[], inProcess: boolean) {
  if (!inProcess) return writeSteps(root, steps);
  const from = w.reports.length;
  w.send({ op: 'write', steps });
  const done = await w.until((r) => Array.isArray(r.wrote), 10_000, from);
  return (done?.wrote ?? []) as number[];
}

/** (a) and (b): misses and write → event latency, in-process and from another process. */
async function liveWrites(b: Backend, inProcess: boolean): Promise<Rows> {
  const root = await temp();
  await makeProjects(root, projects(4));
  for (const f of FOLDERS) await mkdir(join(root, PLAN, f), { recursive: true });
  const w = startWorker({ ...b.config, root, initial: false });
  const mode = inProcess ? 'in-process' : 'other process';
  try {
    await w.until((r) => 'ready' in r, 30_000);
    let missed = 0;
    const stress: number[] = [];
    for (let cycle = 0; cycle < 15; cycle++) {
      for (const recreate of [true, false]) {
        const size = (recreate ? 1 : 2) + cycle * 2;
        const steps = PLAN_FILES.map((f, i) => ({
          rel: `${PLAN}/${f}`,
          size,
          ...(recreate && i === 0 ? { recreate: { plan: PLAN, folders: FOLDERS } } : {}),
        }));
        const from = w.reports.length;
        const at = await write(w, root, steps, inProcess);
        for (const [i, s] of steps.entries()) {
          const r = await w.until(seen(s.rel, s.size), 2000, from);
          if (r) stress.push((r.t as number) - (at[i] ?? 0));
          else missed++;
        }
      }
    }
    // (b) One phase file at a time, 100 ms apart (no file twice within 400 ms).
    const single: number[] = [];
    const second: number[] = [];
    let lost = 0;
    for (let i = 0; i < 40; i++) {
      const rel = phaseFile(projects(4)[i % 4] as string);
      const from = w.reports.length;
      const [at = 0] = await write(w, root, [{ rel, size: 100 + i, delayMs: 100 }], inProcess);
      const r = await w.until(seen(rel, 100 + i), 2000, from);
      if (r) single.push((r.t as number) - at);
      else lost++;
    }
    // A file rewritten 10 ms after its last write (a phase, then its progress).
    for (let i = 0; i < 20; i++) {
      const rel = phaseFile(projects(4)[i % 4] as string);
      const steps = [
        { rel, size: 200 + 2 * i, delayMs: 200 },
        { rel, size: 201 + 2 * i, delayMs: 10 },
      ];
      const from = w.reports.length;
      const at = await write(w, root, steps, inProcess);
      const r = await w.until(seen(rel, 201 + 2 * i), 2000, from);
      if (r) second.push((r.t as number) - (at[1] ?? 0));
      else lost++;
    }
    return {
      [`(a) ${mode}: missed of 120`]: missed,
      [`(a) ${mode}: report p50 / p99 ms`]: `${fmt(percentile(stress, 50))} / ${fmt(percentile(stress, 99))}`,
      [`(b) ${mode}: single write p50 / p99 ms`]: `${fmt(percentile(single, 50))} / ${fmt(percentile(single, 99))}`,
      [`(b) ${mode}: rewrite after 10 ms p50 / p99 ms`]: `${fmt(percentile(second, 50))} / ${fmt(percentile(second, 99))}`,
      [`(b) ${mode}: not reported within 2 s`]: lost,
    };
  } finally {
    await w.kill();
  }
}

const fmt = (ms: number) => (ms < 10 ? ms.toFixed(1) : String(Math.round(ms)));

/** (c) First start: until every phase file was reported; memory, watches, descriptors. */
async function firstStart(b: Backend, root: string, n: number): Promise<Rows> {
  const w = startWorker({ ...b.config, root, initial: true, expect: n });
  try {
    const done = await w.until((r) => 'complete' in r || 'error' in r, 240_000);
    const complete =
      done && 'complete' in done ? done : await w.until((r) => 'complete' in r, 240_000);
    const ready = await w.until((r) => 'ready' in r, 60_000);
    const errors = new Set(w.reports.filter((r) => 'error' in r).map((r) => r.error));
    // Still live after the start: a new project is seen.
    w.send({ op: 'stats' });
    const stats = await w.until((r) => 'stats' in r, 10_000);
    const rel = phaseFile('zz-late');
    await writeSteps(root, [{ rel, size: 7 }]);
    const late = await w.until(seen(rel, 7), 5000);
    await rm(join(root, 'zz-late'), { recursive: true, force: true });
    return {
      [`(c) ${n}: every file reported (ms)`]: complete
        ? Math.round(complete.complete as number)
        : 'never',
      [`(c) ${n}: ready (ms)`]: ready ? Math.round(ready.ready as number) : 'never',
      [`(c) ${n}: peak RSS (MB)`]: complete ? Math.round(complete.rssMb as number) : '-',
      [`(c) ${n}: inotify watches / fds`]: stats ? `${stats.watches} / ${stats.fds}` : '-',
      [`(c) ${n}: ignored files reported, errors`]: `${complete?.leaked ?? '-'}, ${[...errors].join(' ') || 'none'}`,
      [`(c) ${n}: new project seen after start`]: late ? 'yes' : 'no',
    };
  } finally {
    await w.kill();
  }
}

/** (d) No descriptor free: while running (new folders meanwhile), and from the start. */
async function fdPressure(b: Backend, fromStart: boolean): Promise<Rows> {
  const root = await temp();
  await makeProjects(root, projects(5, 'old-'));
  const w = startWorker(
    { ...b.config, root, initial: fromStart, ...(fromStart ? { starveFirst: true } : {}) },
    { fdLimit: 256 },
  );
  const label = fromStart ? '(d) started starved' : '(d) starved while running';
  try {
    if (!fromStart) {
      await w.until((r) => 'ready' in r, 30_000);
      w.send({ op: 'starve' });
      await w.until((r) => 'starved' in r, 10_000);
    }
    // Folders created (and a known file changed) while no descriptor is free.
    const fresh = projects(5, 'new-');
    await makeProjects(root, fresh);
    await writeSteps(root, [{ rel: phaseFile('old-00000'), size: 50 }]);
    await new Promise((r) => setTimeout(r, 1000));
    const wanted = fromStart ? [...projects(5, 'old-'), ...fresh] : fresh;
    const before = wanted.filter((p) => w.reports.some(seen(phaseFile(p)))).length;
    w.send({ op: 'release' });
    await w.until((r) => 'released' in r, 10_000);
    const found = await Promise.all(wanted.map((p) => w.until(seen(phaseFile(p)), 10_000)));
    // And the folders watched late follow what happens from now on.
    const from = w.reports.length;
    const after = [...fresh.map(phaseFile), phaseFile('late-0')];
    await writeSteps(
      root,
      after.map((rel) => ({ rel, size: 99 })),
    );
    const live = await Promise.all(after.map((rel) => w.until(seen(rel, 99), 5000, from)));
    const errors = new Set(w.reports.filter((r) => 'error' in r).map((r) => r.error));
    // What RootWatcher does after EMFILE: close and re-open the root, which reports every file.
    const reopenedAt = w.reports.length;
    w.send({ op: 'reopen' });
    await w.until((r) => 'ready' in r, 30_000, reopenedAt);
    const reopened = await Promise.all(
      after.map((rel) => w.until(seen(rel, 99), 5000, reopenedAt)),
    );
    return {
      [`${label}: files seen before release`]: `${before} of ${wanted.length}`,
      [`${label}: seen within 10 s of release`]: `${found.filter(Boolean).length} of ${wanted.length}`,
      [`${label}: later writes seen`]: `${live.filter(Boolean).length} of ${after.length}`,
      [`${label}: errors reported`]: [...errors].join(' ') || 'none',
      [`${label}: after close + re-open, files seen`]: `${reopened.filter(Boolean).length} of ${after.length}`,
    };
  } finally {
    await w.kill();
  }
}

export async function run(): Promise<Record<string, number>> {
  const chokidar = await installChokidar(CHOKIDAR).catch((error: unknown) => {
    // Offline, or the registry refused: there is nothing to compare, and the reason is said.
    process.stdout.write(`chokidar ${CHOKIDAR} not installed: ${(error as Error).message}\n`);
    return null;
  });
  if (!chokidar) return {};
  const backends: Backend[] = [
    { name: 'TreeWatch', config: { backend: 'treewatch', module: TREEWATCH } },
    { name: `chokidar ${CHOKIDAR}`, config: { backend: 'chokidar', module: chokidar } },
  ];
  process.stdout.write(`TreeWatch from ${TREEWATCH}\n`);
  const table: Record<string, Rows> = {};
  for (const b of backends) table[b.name] = {};
  const add = (b: Backend, rows: Rows) => {
    Object.assign(table[b.name] as Rows, rows);
    printTable(b.name, rows);
  };
  try {
    for (const b of backends) {
      add(b, await liveWrites(b, true));
      add(b, await liveWrites(b, false));
    }
    for (const n of SIZES) {
      const root = await temp();
      await makeProjects(root, projects(n));
      for (const b of backends) add(b, await firstStart(b, root, n));
      if (n === SIZES[0]) {
        for (const b of backends) add(b, await closeDuringScan(b.config, root, n));
      }
      await rm(root, { recursive: true, force: true });
    }
    for (const b of backends) {
      add(b, await fdPressure(b, false));
      add(b, await fdPressure(b, true));
      add(b, await inotifyLimit(b.config, await temp()));
    }
  } finally {
    for (const dir of temps) await rm(dir, { recursive: true, force: true });
  }
  const figures: Record<string, number> = {};
  const names = backends.map((b) => b.name);
  const keys = Object.keys(table[names[0] as string] as Rows);
  process.stdout.write(
    `\n| criterion | ${names.join(' | ')} |\n| --- |${names.map(() => ' --- |').join('')}\n`,
  );
  for (const key of keys) {
    const cells = names.map((name) => String((table[name] as Rows)[key] ?? '-'));
    process.stdout.write(`| ${key} | ${cells.join(' | ')} |\n`);
    for (const name of names) {
      const v = (table[name] as Rows)[key];
      if (typeof v === 'number') figures[`${name} ${key}`] = v;
    }
  }
  return figures;
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
