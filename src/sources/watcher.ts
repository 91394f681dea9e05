import type { Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { Logger } from 'pino';
import { confineReads } from './read-file.ts';
import { TreeWatch } from './tree-watch.ts';
import type { FileEvent, FileHandler } from './types.ts';

/** How often the first scan logs how far it got. */
const PROGRESS_LOG_MS = 2000;

/** How far the roots have been read: `scanning` until the first read of every root is done. */
export interface ScanProgress {
  state: 'scanning' | 'watching';
  /** Folders listed so far, of those found so far (the total is known once all are read). */
  foldersRead: number;
  foldersFound: number;
  /** File reads the first scan started (one per handler taking a file), and those done. */
  filesRead: number;
  filesFound: number;
  /** Folders or entries waiting to be read again after running out of file descriptors. */
  retrying: number;
}

/** Paths named in the log per episode of running out of file descriptors. */
const UNREAD_PATHS_LOGGED = 5;

/** Folders never worth watching: dependency trees, VCS data, build output, caches. */
export const IGNORED_DIRS: ReadonlySet<string> = new Set([
  'node_modules',
  '.git',
  '.hg',
  '.svn',
  'dist',
  'build',
  '.venv',
  'venv',
  '__pycache__',
  'target',
  '.next',
  '.nuxt',
  '.cache',
  '.tox',
  '.mypy_cache',
  '.pytest_cache',
  '.ruff_cache',
  '.gradle',
  '.idea',
  '.terraform',
  'coverage',
  'bower_components',
]);

export interface RootWatcherOptions {
  roots: string[];
  handlers: FileHandler[];
  logger: Logger;
  /** Poll every `pollMs` instead of using inotify (network filesystems). */
  pollMs?: number;
  /** How many folder levels below a root are watched (default 20). */
  depth?: number;
  /** How often a missing or replaced root is checked for (default 2000 ms). */
  retryMs?: number;
}

interface Root {
  path: string;
  watcher: TreeWatch | null;
  opening: Promise<void> | null;
  /** Handler work started by the initial scan; `start()` waits for it. */
  scanning: Promise<void>[] | null;
  warnedMissing: boolean;
  /** Some folders went unwatched (watch or fd limit): re-open at `reopenAt` to pick them up. */
  exhausted: boolean;
  reopenAt: number;
  reopenDelayMs: number;
}

/**
 * The one recursive watcher over the configured roots. Every file event is
 * routed to each handler whose `match` accepts the path relative to its root.
 * Roots may be missing, vanish or come back: that is logged once and picked
 * up again by a periodic check, never fatal.
 */
export class RootWatcher {
  readonly stats = { events: 0, errors: 0 };
  #unreadLogged = 0;
  readonly #opts: RootWatcherOptions;
  readonly #log: Logger;
  readonly #roots: Root[];
  readonly #reportedErrors = new Set<string>();
  #releaseReads: (() => void)[] = [];
  #timer: NodeJS.Timeout | null = null;
  #stopped = false;
  #scanning = false;
  /** Handler reads started and finished by the first scan. */
  readonly #scanFiles = { found: 0, read: 0 };

  constructor(opts: RootWatcherOptions) {
    this.#opts = opts;
    this.#log = opts.logger;
    this.#roots = [...new Set(opts.roots.map((r) => resolve(r)))].map((path) => ({
      path,
      watcher: null,
      opening: null,
      scanning: null,
      warnedMissing: false,
      exhausted: false,
      reopenAt: 0,
      reopenDelayMs: opts.retryMs ?? 2000,
    }));
  }

  /** How far the roots have been read; the first scan's progress. */
  progress(): ScanProgress {
    let foldersRead = 0;
    let foldersFound = 0;
    let retrying = 0;
    for (const root of this.#roots) {
      const w = root.watcher;
      if (!w) continue;
      foldersFound += w.folders;
      foldersRead += Math.min(w.foldersRead, w.folders);
      retrying += w.retrying;
    }
    return {
      state: this.#scanning ? 'scanning' : 'watching',
      foldersRead,
      foldersFound,
      filesRead: this.#scanFiles.read,
      filesFound: this.#scanFiles.found,
      retrying,
    };
  }

  /** Resolves once every existing root has been scanned (its files delivered as `add`). */
  async start(): Promise<void> {
    this.#stopped = false;
    for (const release of this.#releaseReads) release();
    this.#releaseReads = this.#roots.map((root) => confineReads(root.path));
    const began = performance.now();
    this.#scanning = true;
    // A large tree takes seconds: say how far it got, so a long start is not taken for a hang.
    const progress = setInterval(() => {
      const p = this.progress();
      this.#log.info(
        p,
        `reading the roots: ${p.foldersRead}/${p.foldersFound} folders, ${p.filesRead}/${p.filesFound} files so far`,
      );
    }, PROGRESS_LOG_MS);
    progress.unref();
    try {
      await Promise.all(this.#roots.map((root) => this.#ensure(root)));
    } finally {
      clearInterval(progress);
      this.#scanning = false;
    }
    if (performance.now() - began > PROGRESS_LOG_MS) {
      this.#log.info(
        { folders: this.progress().foldersFound, ms: Math.round(performance.now() - began) },
        'read the roots',
      );
    }
    this.#timer = setInterval(() => {
      for (const root of this.#roots) void this.#ensure(root);
    }, this.#opts.retryMs ?? 2000);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const release of this.#releaseReads) release();
    this.#releaseReads = [];
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    for (const root of this.#roots) this.#close(root);
    await Promise.all(this.#roots.map((root) => root.opening));
  }

  /** Opens, re-opens or closes a root's watcher to match what is on disk. */
  #ensure(root: Root): Promise<void> {
    if (root.opening) return root.opening;
    root.opening = this.#sync(root).finally(() => {
      root.opening = null;
    });
    return root.opening;
  }

  async #sync(root: Root): Promise<void> {
    if (this.#stopped) return;
    const ino = await stat(root.path).then(
      (s) => (s.isDirectory() ? s.ino : null),
      () => null,
    );
    if (this.#stopped) return;
    if (ino === null) {
      if (root.watcher) {
        this.#log.warn(
          { root: root.path },
          'watched root vanished; it is picked up again when it reappears',
        );
        root.warnedMissing = true;
        this.#close(root);
      } else if (!root.warnedMissing) {
        root.warnedMissing = true;
        this.#log.warn({ root: root.path }, 'root does not exist (yet); watching for it to appear');
      }
      return;
    }
    const reopen = root.exhausted && Date.now() >= root.reopenAt;
    // A root replaced under a live watch is re-read by the watch itself; this catches the rest.
    if (root.watcher && root.watcher.rootIno === ino && !reopen) return;
    if (reopen) {
      // Until the limit is raised every re-open fails again: back off to once a minute.
      root.exhausted = false;
      root.reopenAt = Date.now() + root.reopenDelayMs;
      root.reopenDelayMs = Math.min(root.reopenDelayMs * 2, 60_000);
    }
    if (root.watcher) this.#close(root);
    if (root.warnedMissing) this.#log.info({ root: root.path }, 'root is back; watching it again');
    root.warnedMissing = false;
    await this.#open(root);
  }

  async #open(root: Root): Promise<void> {
    const watcher: TreeWatch = new TreeWatch({
      root: root.path,
      depth: this.#opts.depth ?? 20,
      ignore: (name) => IGNORED_DIRS.has(name),
      ...(this.#opts.pollMs !== undefined ? { pollMs: this.#opts.pollMs } : {}),
      onFile: (kind, path, stats) => this.#route(root, watcher, kind, path, stats),
      onRootGone: () => {
        if (root.watcher === watcher) void this.#ensure(root);
      },
      onError: (error, path, retrying) => this.#onError(root, error, path, retrying),
      onRecovered: (count) => {
        this.#unreadLogged = 0;
        this.#log.info(
          { root: root.path, count },
          'file descriptors available again: read what could not be read before',
        );
      },
    });
    root.watcher = watcher;
    root.scanning = [];
    await watcher.start();
    // The files found by the scan are read before start() returns, so a caller
    // sees the state on disk (`status --root`, the first lines of `serve`).
    const scanned = root.scanning ?? [];
    root.scanning = null;
    await Promise.allSettled(scanned);
  }

  #close(root: Root): void {
    root.watcher?.close();
    root.watcher = null;
  }

  #route(
    root: Root,
    watcher: TreeWatch,
    kind: FileEvent['kind'],
    path: string,
    stats?: Stats,
  ): void {
    // Late events of a replaced watcher would duplicate the new one's scan.
    if (root.watcher !== watcher || this.#stopped) return;
    this.stats.events++;
    const rel = relative(root.path, path);
    if (rel.startsWith('..') || isAbsolute(rel)) return;
    const relPath = sep === '/' ? rel : rel.split(sep).join('/');
    const event: FileEvent = { kind, path, root: root.path };
    if (stats && kind !== 'unlink') event.stats = { size: stats.size, mtimeMs: stats.mtimeMs };
    for (const handler of this.#opts.handlers) {
      try {
        if (!handler.match(relPath)) continue;
        const pending = handler.handle(event);
        if (pending) {
          const handled = pending.catch((error: unknown) =>
            this.#handlerFailed(handler, path, error),
          );
          if (root.scanning) {
            this.#scanFiles.found++;
            root.scanning.push(handled.finally(() => this.#scanFiles.read++));
          }
        }
      } catch (error) {
        this.#handlerFailed(handler, path, error);
      }
    }
  }

  /**
   * A folder or entry not read for lack of file descriptors (the tree watch
   * retries it): the first few paths of each episode are named and the
   * recovery line counts them all, so a scan of 20,000 folders under pressure
   * does not flood the log.
   */
  #couldNotRead(root: Root, code: string, path: string): void {
    if (this.#unreadLogged >= UNREAD_PATHS_LOGGED) return;
    this.#unreadLogged++;
    this.#log.warn(
      { root: root.path, code, path },
      this.#unreadLogged === UNREAD_PATHS_LOGGED
        ? 'too many open files: could not read this (and maybe more, not named); retrying until it can (raise ulimit -n)'
        : 'too many open files: could not read this; retrying until it can (raise ulimit -n)',
    );
  }

  #handlerFailed(handler: FileHandler, path: string, error: unknown): void {
    this.stats.errors++;
    this.#log.error(
      { handler: handler.name, path, err: (error as Error)?.message },
      'file handler failed',
    );
  }

  #onError(root: Root, error: NodeJS.ErrnoException, path: string, retrying: boolean): void {
    this.stats.errors++;
    const code = error.code ?? 'unknown';
    if (retrying) {
      this.#couldNotRead(root, code, path);
      return;
    }
    if (code === 'ENOSPC' || code === 'EMFILE' || code === 'ENFILE') root.exhausted = true;
    // One line per kind of failure: a full inotify table fails on every folder.
    if (this.#reportedErrors.has(code)) return;
    this.#reportedErrors.add(code);
    if (code === 'ENOSPC') {
      this.#log.error(
        { root: root.path, code },
        'inotify watch limit reached: raise it (sudo sysctl fs.inotify.max_user_watches=524288) or watch with polling (--poll)',
      );
    } else if (code === 'EMFILE' || code === 'ENFILE') {
      this.#log.error(
        { root: root.path, code },
        'too many open files while watching: raise the limit (ulimit -n 65536) or watch with polling (--poll)',
      );
    } else {
      this.#log.warn(
        { root: root.path, code, err: error.message },
        'watcher error; still watching',
      );
    }
  }
}
