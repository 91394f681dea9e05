import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { type EventEmitter, once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { TreeWatch } from '../src/sources/tree-watch.ts';
import { percentile, printTable } from './stats.ts';

/**
 * `npm run bench -- watchers`: the stress test that made Livestream leave
 * chokidar (src/sources/watcher-recreate.integration.test.ts), run against
 * chokidar, @parcel/watcher and our TreeWatch in one run. A plan folder four
 * levels deep is deleted and re-created, a file written at every level right
 * after the folders are made, then every file rewritten: 15 cycles, 120
 * writes, each of which must be reported within 2 s, written from this
 * process and from a child process. A report counts when the file, read on
 * the event as Livestream's handlers do, has the size just written.
 *
 * The libraries are not dependencies of Livestream: they are installed at the
 * exact versions below in a folder outside the checkout (npm, on first run).
 * docs/watchers.md keeps the results.
 */
export const PINNED = { chokidar: '6.0.0', '@parcel/watcher': '2.6.0' } as const;

/**
 * The versions run: the pinned ones, or others named in the environment
 * (`WATCHERS_CHOKIDAR=5.0.0`, `WATCHERS_PARCEL=2.5.1`) to compare releases.
 */
const LIBRARIES = {
  chokidar: process.env.WATCHERS_CHOKIDAR ?? PINNED.chokidar,
  '@parcel/watcher': process.env.WATCHERS_PARCEL ?? PINNED['@parcel/watcher'],
};

const CYCLES = 15;
const DEADLINE_MS = 2000;
const PLAN = 'p/work-space/plans/X';
const FOLDERS = ['subplans', 'execution/feedbacks'];
/** One file per folder level of a plan, the layout orchestrators write. */
const FILES = [
  'PLAN_X.md',
  'subplans/SUBPLAN_11.md',
  'execution/EXEC_11_01.md',
  'execution/feedbacks/FIX_11.md',
];

/** A watcher under test: watches `root`, calls `changed` for every file added or changed. */
interface Backend {
  name: string;
  /** Whether it watches through `fs.watch` (its handles are then counted after closing). */
  fsWatch: boolean;
  open(
    root: string,
    changed: (path: string) => void,
  ): { ready: Promise<void>; close(): Promise<void> };
}

/** What the harness uses of each library (they are not installed in the checkout, so no types). */
interface Libraries {
  chokidar: {
    watch(
      path: string,
      options: Record<string, unknown>,
    ): EventEmitter & { close(): Promise<void> };
  };
  parcel: {
    subscribe(
      dir: string,
      fn: (
        error: Error | null,
        events: { type: 'create' | 'update' | 'delete'; path: string }[],
      ) => void,
    ): Promise<{ unsubscribe(): Promise<void> }>;
  };
}

const exec = promisify(execFile);

/** Installs the pinned versions outside the checkout (once) and loads them. */
async function loadLibraries(): Promise<Libraries> {
  const dir = join(
    tmpdir(),
    `livestream-bench-watchers-${LIBRARIES.chokidar}-${LIBRARIES['@parcel/watcher']}`,
  );
  const installed = (name: string): string | null => {
    try {
      const pkg = join(dir, 'node_modules', name, 'package.json');
      return (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
    } catch {
      return null;
    }
  };
  if (Object.entries(LIBRARIES).some(([name, version]) => installed(name) !== version)) {
    await mkdir(dir, { recursive: true });
    await writeFile(
      join(dir, 'package.json'),
      JSON.stringify({ private: true, type: 'module', dependencies: LIBRARIES }),
    );
    // `npm run` names its own CLI; it runs on the pinned Node like the bench.
    const npm = process.env.npm_execpath;
    const args = ['install', '--no-audit', '--no-fund', '--save-exact'];
    process.stdout.write(`installing ${JSON.stringify(LIBRARIES)} in ${dir}\n`);
    if (npm) await exec(process.execPath, [npm, ...args], { cwd: dir });
    else await exec('npm', args, { cwd: dir });
  }
  // Imported through a file in that folder, so its node_modules resolve.
  const loader = join(dir, 'load.mjs');
  await writeFile(
    loader,
    "export * as chokidar from 'chokidar';\nexport { default as parcel } from '@parcel/watcher';\n",
  );
  return (await import(pathToFileURL(loader).href)) as Libraries;
}

function backends(libs: Libraries | null): Backend[] {
  const ours = treeWatch();
  if (!libs) return [ours];
  return [
    {
      name: `chokidar ${LIBRARIES.chokidar}`,
      fsWatch: true,
      open(root, changed) {
        const w = libs.chokidar.watch(root, {
          ignoreInitial: true,
          followSymlinks: false,
          depth: 20,
          ignorePermissionErrors: true,
        });
        w.on('add', changed).on('change', changed);
        return { ready: once(w, 'ready').then(() => undefined), close: () => w.close() };
      },
    },
    {
      name: `@parcel/watcher ${LIBRARIES['@parcel/watcher']}`,
      fsWatch: false,
      open(root, changed) {
        const sub = libs.parcel.subscribe(root, (error, events) => {
          if (error) return;
          for (const e of events) if (e.type !== 'delete') changed(e.path);
        });
        return {
          ready: sub.then(() => undefined),
          close: async () => (await sub).unsubscribe(),
        };
      },
    },
    ours,
  ];
}

function treeWatch(): Backend {
  return {
    name: 'TreeWatch (ours)',
    fsWatch: true,
    open(root, changed) {
      const w = new TreeWatch({
        root,
        depth: 20,
        ignore: () => false,
        onFile: (kind, path) => {
          if (kind !== 'unlink') changed(path);
        },
        onRootGone: () => undefined,
        onError: () => undefined,
      });
      return { ready: w.start(), close: async () => w.close() };
    },
  };
}

interface Write {
  rel: string;
  size: number;
}

/** Re-creates the plan folders and writes files: in this process, or in another one. */
interface Writer {
  run(recreate: boolean, files: Write[]): Promise<void>;
  close(): void;
}

function inProcess(root: string): Writer {
  return {
    async run(recreate, files) {
      const plan = join(root, PLAN);
      if (recreate) {
        await rm(plan, { recursive: true, force: true });
        for (const f of FOLDERS) await mkdir(join(plan, f), { recursive: true });
      }
      for (const f of files) await writeFile(join(root, f.rel), 'x'.repeat(f.size));
    },
    close: () => undefined,
  };
}

/** An orchestrator's syscalls do not wait for our event loop: the same from a child process. */
const CHILD = `
const fs = require('node:fs');
const { join } = require('node:path');
const [root, plan, folders] = process.argv.slice(1);
require('node:readline').createInterface({ input: process.stdin }).on('line', (line) => {
  const { recreate, files } = JSON.parse(line);
  if (recreate) {
    fs.rmSync(join(root, plan), { recursive: true, force: true });
    for (const f of JSON.parse(folders)) fs.mkdirSync(join(root, plan, f), { recursive: true });
  }
  for (const f of files) fs.writeFileSync(join(root, f.rel), 'x'.repeat(f.size));
  process.stdout.write('done\\n');
});
`;

function childProcess(root: string): Writer {
  const child: ChildProcess = spawn(
    process.execPath,
    ['-e', CHILD, root, PLAN, JSON.stringify(FOLDERS)],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const replies: (() => void)[] = [];
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', () =>
    replies.shift()?.(),
  );
  return {
    run: (recreate, files) =>
      new Promise<void>((done) => {
        replies.push(done);
        child.stdin?.write(`${JSON.stringify({ recreate, files })}\n`);
      }),
    close: () => child.kill(),
  };
}

/** One backend, one writer: how many of the 120 writes were reported in time, and how fast. */
async function stress(
  backend: Backend,
  mode: 'in-process' | 'child process',
): Promise<{ missed: number; writes: number; latencies: number[] }> {
  const root = await mkdtemp(join(tmpdir(), 'ls-bench-watch-'));
  for (const f of FOLDERS) await mkdir(join(root, PLAN, f), { recursive: true });
  const seen = new Map<string, number>();
  let waiters: { key: string; done: (ok: boolean) => void }[] = [];
  const changed = (path: string) => {
    // Read on the event, as the handlers do: what the app would see.
    stat(path).then(
      (s) => {
        if (!s.isFile()) return;
        const key = `${path.slice(root.length + 1)}#${s.size}`;
        if (!seen.has(key)) seen.set(key, performance.now());
        for (const w of waiters) if (w.key === key) w.done(true);
        waiters = waiters.filter((w) => w.key !== key);
      },
      () => undefined,
    );
  };
  const seenWithin = (key: string) =>
    new Promise<boolean>((done) => {
      if (seen.has(key)) return done(true);
      const timer = setTimeout(() => {
        waiters = waiters.filter((w) => w.key !== key);
        done(false);
      }, DEADLINE_MS);
      waiters.push({
        key,
        done: (ok) => {
          clearTimeout(timer);
          done(ok);
        },
      });
    });
  const watch = backend.open(root, changed);
  await watch.ready;
  const writer = mode === 'in-process' ? inProcess(root) : childProcess(root);
  let missed = 0;
  const latencies: number[] = [];
  try {
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      for (const recreate of [true, false]) {
        // Sizes are unique per cycle and round: a report of an earlier write cannot count.
        const size = (recreate ? 1 : 2) + cycle * 2;
        const files = FILES.map((f) => ({ rel: `${PLAN}/${f}`, size }));
        await writer.run(recreate, files);
        const written = performance.now();
        const keys = files.map((f) => `${f.rel}#${f.size}`);
        const results = await Promise.all(keys.map(seenWithin));
        missed += results.filter((ok) => !ok).length;
        for (const key of keys) {
          const at = seen.get(key);
          if (at !== undefined) latencies.push(Math.max(0, at - written));
        }
      }
    }
  } finally {
    writer.close();
    await watch.close();
    await rm(root, { recursive: true, force: true });
  }
  return { missed, writes: CYCLES * 2 * FILES.length, latencies };
}

const fsWatches = () =>
  process.getActiveResourcesInfo().filter((name) => name === 'FSEventWrap').length;

/**
 * Closed in the same turn it was opened, while its first read of a tree of
 * 300 folders is under way: the `fs.watch` handles still open a second later
 * (chokidar 5 kept placing watches after close, so processes did not exit).
 */
async function closedDuringScan(backend: Backend): Promise<number> {
  const root = await mkdtemp(join(tmpdir(), 'ls-bench-watch-'));
  for (let a = 0; a < 10; a++) {
    for (let b = 0; b < 30; b++) {
      await mkdir(join(root, `a${a}`, `b${b}`), { recursive: true });
      await writeFile(join(root, `a${a}`, `b${b}`, 'f.md'), 'x');
    }
  }
  const before = fsWatches();
  const watch = backend.open(root, () => undefined);
  await watch.close();
  await new Promise((r) => setTimeout(r, 1000));
  const left = fsWatches() - before;
  await rm(root, { recursive: true, force: true });
  return left;
}

export async function run(): Promise<Record<string, number>> {
  const libs = await loadLibraries().catch((error: unknown) => {
    // Offline, or the registry refused: ours is still measured, and the reason said.
    process.stdout.write(`libraries not installed (${(error as Error).message}): TreeWatch only\n`);
    return null;
  });
  const figures: Record<string, number> = {};
  for (const backend of backends(libs)) {
    const rows: Record<string, number> = {};
    for (const mode of ['in-process', 'child process'] as const) {
      const r = await stress(backend, mode);
      rows[`${mode}: missed of ${r.writes}`] = r.missed;
      rows[`${mode}: report p50 ms`] = percentile(r.latencies, 50);
      rows[`${mode}: report p99 ms`] = percentile(r.latencies, 99);
      figures[`${backend.name} ${mode} missed`] = r.missed;
    }
    if (backend.fsWatch) {
      const left = await closedDuringScan(backend);
      rows['closed during its first scan: fs.watch handles left'] = left;
      figures[`${backend.name} handles left after close`] = left;
    }
    printTable(`${backend.name}: folders re-created ${CYCLES}×, 4 levels`, rows);
  }
  return figures;
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
