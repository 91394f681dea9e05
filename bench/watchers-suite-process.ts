import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import type { Command, WorkerConfig } from './watchers-suite-worker.ts';

const WORKER = join(import.meta.dirname, 'watchers-suite-worker.ts');
const exec = promisify(execFile);

/** A report line of the worker. */
export type Report = Record<string, unknown>;

/** A watcher running in a worker process (bench/watchers-suite-worker.ts). */
export interface Worker {
  child: ChildProcess;
  reports: Report[];
  /** The first report (from `from` on) that `pred` accepts, or null after `timeoutMs`. */
  until(pred: (r: Report) => boolean, timeoutMs: number, from?: number): Promise<Report | null>;
  send(command: Command): void;
  /** Resolves with the exit code (null: killed) once the process is gone. */
  exited: Promise<number | null>;
  kill(): Promise<void>;
}

/**
 * Starts a worker: as it is, under `ulimit -n` (`fdLimit`), or in a user
 * namespace whose inotify watch limit is `inotifyLimit`.
 */
export function startWorker(
  config: WorkerConfig,
  how: { fdLimit?: number; inotifyLimit?: number } = {},
): Worker {
  const node = [process.execPath, '--import', 'tsx', WORKER, JSON.stringify(config)];
  let command = node;
  if (how.fdLimit !== undefined) {
    command = ['sh', '-c', `ulimit -n ${how.fdLimit} && exec "$0" "$@"`, ...node];
  } else if (how.inotifyLimit !== undefined) {
    command = [
      'unshare',
      '--user',
      '--map-root-user',
      'sh',
      '-c',
      `echo ${how.inotifyLimit} > /proc/sys/user/max_inotify_watches && exec "$0" "$@"`,
      ...node,
    ];
  }
  const [file, ...args] = command as [string, ...string[]];
  const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const reports: Report[] = [];
  let waiters: { pred: (r: Report) => boolean; done: (r: Report) => void }[] = [];
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    let report: Report;
    try {
      report = JSON.parse(line) as Report;
    } catch {
      return;
    }
    reports.push(report);
    const matched = waiters.filter((w) => w.pred(report));
    waiters = waiters.filter((w) => !matched.includes(w));
    for (const w of matched) w.done(report);
  });
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  return {
    child,
    reports,
    until(pred, timeoutMs, from = 0) {
      const known = reports.slice(from).find(pred);
      if (known) return Promise.resolve(known);
      return new Promise((done) => {
        const waiter = {
          pred,
          done: (r: Report) => {
            clearTimeout(timer);
            done(r);
          },
        };
        const timer = setTimeout(() => {
          waiters = waiters.filter((w) => w !== waiter);
          done(null);
        }, timeoutMs);
        waiters.push(waiter);
      });
    },
    send(command) {
      child.stdin?.write(`${JSON.stringify(command)}\n`);
    },
    exited,
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Raises (or lowers) the inotify watch limit inside a worker's user namespace. */
export async function setInotifyLimit(worker: Worker, limit: number): Promise<void> {
  await exec('nsenter', [
    '--user',
    '--target',
    String(worker.child.pid),
    'sh',
    '-c',
    `echo ${limit} > /proc/sys/user/max_inotify_watches`,
  ]);
}

/**
 * Installs chokidar at `version` with npm outside the checkout (once) and
 * returns the folder; it is not a dependency of Livestream.
 */
export async function installChokidar(version: string): Promise<string> {
  const dir = join(tmpdir(), `livestream-bench-watchers-suite-chokidar-${version}`);
  const installed = (() => {
    try {
      const pkg = join(dir, 'node_modules', 'chokidar', 'package.json');
      return (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
    } catch {
      return null;
    }
  })();
  if (installed !== version) {
    await mkdir(dir, { recursive: true });
    await writeFile(
      join(dir, 'package.json'),
      JSON.stringify({ private: true, type: 'module', dependencies: { chokidar: version } }),
    );
    process.stdout.write(`installing chokidar ${version} in ${dir}\n`);
    // `npm run` names its own CLI; it runs on the pinned Node like the bench.
    const npm = process.env.npm_execpath;
    const args = ['install', '--no-audit', '--no-fund', '--save-exact'];
    if (npm) await exec(process.execPath, [npm, ...args], { cwd: dir });
    else await exec('npm', args, { cwd: dir });
  }
  // Imported through a file in that folder, so its node_modules resolve.
  await writeFile(join(dir, 'load.mjs'), "export * from 'chokidar';\n");
  return dir;
}
