// One watcher in its own process, for `npm run bench -- watchers-suite`
// (bench/watchers-suite.ts): its memory, descriptors and inotify watches are
// then its own, and it can be started under a lowered `ulimit -n` or in a
// user namespace with a lowered inotify limit. Usage:
//   node --import tsx bench/watchers-suite-worker.ts '<WorkerConfig as JSON>'
// It prints one JSON line per report (see `Report`) and takes commands as JSON
// lines on stdin (see `Command`), except with `closeAfterMs`, where it reads
// nothing so that only the watcher can keep it alive.
import type { EventEmitter } from 'node:events';
import { closeSync, openSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import type { TreeWatchOptions } from '../src/sources/tree-watch.ts';
import { IGNORED_DIRS } from '../src/sources/watcher.ts';

export interface WorkerConfig {
  backend: 'chokidar' | 'treewatch';
  root: string;
  /** Report the files found at start as `add` (chokidar: `ignoreInitial: false`). */
  initial: boolean;
  /** chokidar's install folder (holds load.mjs), or the TreeWatch module to load. */
  module: string;
  /** Say `complete` once this many `current-phase.json` files were reported. */
  expect?: number;
  /** Take every free descriptor before the watcher is opened. */
  starveFirst?: boolean;
  /** Close the watcher this long after opening it, then report what is left open. */
  closeAfterMs?: number;
}

/** A step of writing: the plan folder re-created first (`recreate`), then the file written. */
export interface Step {
  rel: string;
  size: number;
  recreate?: { plan: string; folders: string[] };
  /** Wait this long before the step. */
  delayMs?: number;
}

export type Command =
  | { op: 'write'; steps: Step[] }
  | { op: 'starve' | 'release' | 'reopen' | 'stats' | 'exit' };

/** Monotonic nanoseconds as a number of milliseconds, comparable across processes. */
export const now = (): number => Number(process.hrtime.bigint()) / 1e6;

/** Writes the steps in order; the time each write began (its event may come before it returns). */
export async function writeSteps(root: string, steps: Step[]): Promise<number[]> {
  const at: number[] = [];
  for (const step of steps) {
    if (step.delayMs) await new Promise((r) => setTimeout(r, step.delayMs));
    if (step.recreate) {
      await rm(join(root, step.recreate.plan), { recursive: true, force: true });
      for (const f of step.recreate.folders) {
        await mkdir(join(root, step.recreate.plan, f), { recursive: true });
      }
    }
    await mkdir(dirname(join(root, step.rel)), { recursive: true });
    at.push(now());
    await writeFile(join(root, step.rel), 'x'.repeat(step.size));
  }
  return at;
}

/** inotify watches and open descriptors of this process (from /proc). */
export function kernelCounts(): { watches: number; fds: number } {
  const fds = readdirSync('/proc/self/fd');
  let watches = 0;
  for (const fd of fds) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) !== 'anon_inode:inotify') continue;
      const info = readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
      watches += info.split('\n').filter((l) => l.startsWith('inotify wd:')).length;
    } catch {
      // The descriptor readdir itself used is gone by now.
    }
  }
  return { watches, fds: fds.length };
}

interface Opened {
  ready: Promise<void>;
  close(): Promise<void> | void;
}

type ChokidarWatch = EventEmitter & { close(): Promise<void> };

async function main(config: WorkerConfig): Promise<void> {
  const say = (value: object) => process.stdout.write(`${JSON.stringify(value)}\n`);
  const held: number[] = [];
  const fill = () => {
    for (;;) {
      try {
        held.push(openSync('/dev/null', 'r'));
      } catch {
        return;
      }
    }
  };
  const starve = async () => {
    // Again after a while: descriptors the runtime still held get closed meanwhile.
    for (let round = 0; round < 5; round++) {
      fill();
      await new Promise((r) => setTimeout(r, 20));
    }
    fill();
  };
  const release = () => {
    for (const fd of held.splice(0)) closeSync(fd);
  };
  const chokidar =
    config.backend === 'chokidar'
      ? ((await import(pathToFileURL(join(config.module, 'load.mjs')).href)) as {
          watch(path: string, options: Record<string, unknown>): ChokidarWatch;
        })
      : null;
  const tree =
    config.backend === 'treewatch'
      ? ((await import(pathToFileURL(config.module).href)) as {
          TreeWatch: new (
            opts: TreeWatchOptions & { onRecovered?: (count: number) => void },
          ) => { start(): Promise<void>; close(): void };
        })
      : null;
  let closed = false;
  let afterClose = 0;
  const phases = new Set<string>();
  let leaked = 0;
  let began = now();
  const changed = (path: string) => {
    if (closed) {
      afterClose++;
      return;
    }
    const t = now();
    const rel = path.slice(config.root.length + 1);
    if (rel.split('/').some((part) => IGNORED_DIRS.has(part))) leaked++;
    if (config.expect !== undefined && phases.size < config.expect) {
      // First start: counted, not printed (20,000 lines would time the pipe).
      if (!rel.endsWith('current-phase.json') || phases.has(rel)) return;
      phases.add(rel);
      if (phases.size === config.expect) {
        const { watches, fds } = kernelCounts();
        const rssMb = process.resourceUsage().maxRSS / 1024;
        say({ complete: t - began, rssMb, watches, fds, leaked });
      }
      return;
    }
    // Read on the event, as Livestream's handlers do: what the app would see.
    stat(path).then(
      (s) => s.isFile() && say({ rel, size: s.size, t }),
      () => undefined,
    );
  };
  const onError = (error: NodeJS.ErrnoException) => {
    if (!closed) say({ error: error.code ?? error.message });
  };
  const open = (initial: boolean): Opened => {
    if (chokidar) {
      const w = chokidar.watch(config.root, {
        ignoreInitial: !initial,
        followSymlinks: false,
        depth: 20,
        ignorePermissionErrors: true,
        ignored: (path: string) => IGNORED_DIRS.has(basename(path)),
      });
      w.on('add', changed).on('change', changed).on('error', onError);
      return {
        ready: new Promise<void>((done) => w.once('ready', () => done())),
        close: () => w.close(),
      };
    }
    if (!tree) throw new Error('no watcher loaded');
    const w = new tree.TreeWatch({
      root: config.root,
      depth: 20,
      ignore: (name) => IGNORED_DIRS.has(name),
      // As RootWatcher: a new tree reports its files; the bench drops them when asked to.
      onFile: (kind, path) => {
        if (kind !== 'unlink' && (initial || ready)) changed(path);
      },
      onRootGone: () => undefined,
      onError: (error) => onError(error),
      onRecovered: (count) => say({ recovered: count }),
    });
    let ready = false;
    return {
      ready: w.start().then(() => {
        ready = true;
      }),
      close: () => w.close(),
    };
  };

  if (config.starveFirst) await starve();
  began = now();
  let watch = open(config.initial);
  const announce = (w: Opened) =>
    w.ready.then(() => {
      if (!closed) say({ ready: now() - began, held: held.length });
    });
  void announce(watch);

  if (config.closeAfterMs !== undefined) {
    const fsWatches = () =>
      process.getActiveResourcesInfo().filter((name) => name === 'FSEventWrap').length;
    await new Promise((r) => setTimeout(r, config.closeAfterMs));
    closed = true;
    await watch.close();
    say({ closing: true });
    await new Promise((r) => setTimeout(r, 1000));
    say({ closed: true, handles: fsWatches(), ...kernelCounts(), afterClose });
    // Nothing else keeps the process alive now: the parent times its exit.
    return;
  }

  const lines = createInterface({ input: process.stdin });
  lines.on('line', async (line) => {
    const command = JSON.parse(line) as Command;
    if (command.op === 'write') say({ wrote: await writeSteps(config.root, command.steps) });
    else if (command.op === 'starve') {
      await starve();
      say({ starved: held.length });
    } else if (command.op === 'release') {
      release();
      say({ released: true });
    } else if (command.op === 'reopen') {
      await watch.close();
      began = now();
      watch = open(true);
      void announce(watch);
    } else if (command.op === 'stats') {
      say({ stats: true, ...kernelCounts(), rssMb: process.resourceUsage().maxRSS / 1024 });
    } else {
      closed = true;
      await watch.close();
      lines.close();
      process.exit(0);
    }
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await main(JSON.parse(process.argv[2] ?? '{}') as WorkerConfig);
}
