import type { Stats } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { type FSWatcher, watch } from 'chokidar';
import type { Logger } from 'pino';
import type { FileEvent, FileHandler } from './types.ts';

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

/**
 * chokidar ignores a file's raw events for 5 ms after each one, with no
 * trailing event, so the last write of a fast burst (`cat > file` is a
 * truncate then a write) could go unseen. A re-stat just after that window
 * delivers that last write.
 */
export const TRAILING_CHECK_MS = 10;

type Throttle = (action: string, path: string, timeout: number) => unknown;

/**
 * Lets every `change` and every removal through chokidar. chokidar 5
 * suppresses a path's change events for 50 ms after each one it emits, so a
 * phase file rewritten twice in quick succession reached us 50–75 ms late
 * (through the trailing check). It also ignores a second removal of a path
 * within 100 ms: a folder deleted, re-created and deleted again that fast
 * kept its watch on the deleted inode, which the next re-creation reused by
 * path, so nothing in it was reported again. A repeated removal emits nothing
 * (the entry is already gone) and duplicate changes are harmless: the
 * handlers coalesce reads per file. `_throttle` is internal to chokidar
 * (pinned at 5.0.0); if it ever disappears this does nothing.
 */
function unthrottle(watcher: FSWatcher): void {
  const internals = watcher as unknown as { _throttle?: Throttle };
  const original = internals._throttle;
  if (typeof original !== 'function') return;
  internals._throttle = (action, path, timeout) =>
    action === 'change' || action === 'remove'
      ? { timeoutObject: undefined, clear: () => 0, count: 0 }
      : original.call(watcher, action, path, timeout);
}

/** The chokidar internals (pinned at 5.0.0) that make it forget and re-read one folder. */
interface Rescan {
  _watched?: Map<string, { has(name: string): boolean }>;
  _addPathCloser?: (path: string, closer: unknown) => void;
  _remove?: (directory: string, item: string, isDirectory?: boolean) => void;
  _incrReadyCount?: () => number;
  _nodeFsHandler?: {
    _addToNodeFs?: (path: string, initialAdd: boolean, wh: undefined, depth: number) => unknown;
  };
}

/** A folder chokidar reported, as it was then. */
interface WatchedDir {
  ino: number;
  /** Its inotify watch reported the folder itself deleted or moved: the watch is dead. */
  dead: boolean;
}

interface Root {
  path: string;
  watcher: FSWatcher | null;
  ino: number | null;
  /** Folders the current watcher watches (native mode), to notice one replaced under it. */
  dirs: Map<string, WatchedDir>;
  /** Set while chokidar is told to forget a folder, whose `unlinkDir` is then ours. */
  forgetting: boolean;
  opening: Promise<void> | null;
  /** Handler work started by the initial scan; `start()` waits for it. */
  scanning: Promise<void>[] | null;
  /** Ends a pending wait for `ready` when the watcher is closed first. */
  abortReady: (() => void) | null;
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
  readonly #opts: RootWatcherOptions;
  readonly #log: Logger;
  readonly #roots: Root[];
  readonly #reportedErrors = new Set<string>();
  readonly #trailing = new Map<string, NodeJS.Timeout>();
  #timer: NodeJS.Timeout | null = null;
  #stopped = false;

  constructor(opts: RootWatcherOptions) {
    this.#opts = opts;
    this.#log = opts.logger;
    this.#roots = [...new Set(opts.roots.map((r) => resolve(r)))].map((path) => ({
      path,
      watcher: null,
      ino: null,
      dirs: new Map(),
      forgetting: false,
      opening: null,
      scanning: null,
      abortReady: null,
      warnedMissing: false,
      exhausted: false,
      reopenAt: 0,
      reopenDelayMs: opts.retryMs ?? 2000,
    }));
  }

  /** Resolves once every existing root has been scanned (its files delivered as `add`). */
  async start(): Promise<void> {
    this.#stopped = false;
    await Promise.all(this.#roots.map((root) => this.#ensure(root)));
    this.#timer = setInterval(() => {
      for (const root of this.#roots) void this.#ensure(root);
    }, this.#opts.retryMs ?? 2000);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    for (const timer of this.#trailing.values()) clearTimeout(timer);
    this.#trailing.clear();
    await Promise.all(this.#roots.map((root) => root.opening));
    await Promise.all(this.#roots.map((root) => this.#close(root)));
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
    if (ino === null) {
      if (root.watcher) {
        this.#log.warn(
          { root: root.path },
          'watched root vanished; it is picked up again when it reappears',
        );
        root.warnedMissing = true;
        await this.#close(root);
      } else if (!root.warnedMissing) {
        root.warnedMissing = true;
        this.#log.warn({ root: root.path }, 'root does not exist (yet); watching for it to appear');
      }
      return;
    }
    const reopen = root.exhausted && Date.now() >= root.reopenAt;
    if (root.watcher && root.ino === ino && !reopen) return;
    if (reopen) {
      // Until the limit is raised every re-open fails again: back off to once a minute.
      root.exhausted = false;
      root.reopenAt = Date.now() + root.reopenDelayMs;
      root.reopenDelayMs = Math.min(root.reopenDelayMs * 2, 60_000);
    }
    if (root.watcher) await this.#close(root);
    if (root.warnedMissing) this.#log.info({ root: root.path }, 'root is back; watching it again');
    root.warnedMissing = false;
    await this.#open(root, ino);
  }

  async #open(root: Root, ino: number): Promise<void> {
    const pollMs = this.#opts.pollMs;
    const watcher = watch(root.path, {
      persistent: true,
      ignoreInitial: false,
      followSymlinks: false,
      alwaysStat: true,
      depth: this.#opts.depth ?? 20,
      ignorePermissionErrors: true,
      usePolling: pollMs !== undefined,
      ...(pollMs !== undefined ? { interval: pollMs, binaryInterval: pollMs } : {}),
      ignored: (path: string) => path !== root.path && IGNORED_DIRS.has(basename(path)),
    });
    unthrottle(watcher);
    root.watcher = watcher;
    root.ino = ino;
    root.scanning = [];
    watcher.on('add', (path, stats) => this.#route(root, watcher, 'add', path, stats));
    watcher.on('change', (path, stats) => this.#route(root, watcher, 'change', path, stats));
    watcher.on('unlink', (path) => this.#route(root, watcher, 'unlink', path));
    root.dirs = new Map();
    this.#readAgainWhenWatched(root, watcher);
    watcher.on('addDir', (path, stats) => {
      if (stats) root.dirs.set(path, { ino: stats.ino, dead: false });
    });
    watcher.on('unlinkDir', (path) => {
      root.dirs.delete(path);
      if (path === root.path) void this.#ensure(root);
      // chokidar may drop a folder that a read saw missing after it was re-created.
      else if (pollMs === undefined && !root.forgetting) void this.#recheck(root, watcher, path);
    });
    // Polling watches paths, not inodes: a re-created folder is polled like the old one.
    if (pollMs === undefined) {
      watcher.on('raw', (event, name, details) =>
        this.#onRaw(root, watcher, event, name, (details as { watchedPath?: string })?.watchedPath),
      );
    }
    watcher.on('error', (error) => this.#onError(root, error as NodeJS.ErrnoException));
    await new Promise<void>((done) => {
      root.abortReady = done;
      watcher.once('ready', done);
    });
    root.abortReady = null;
    // The files found by the scan are read before start() returns, so a caller
    // sees the state on disk (`status --root`, the first lines of `serve`).
    const scanned = root.scanning ?? [];
    root.scanning = null;
    await Promise.allSettled(scanned);
  }

  async #close(root: Root): Promise<void> {
    const watcher = root.watcher;
    root.watcher = null;
    root.ino = null;
    if (!watcher) return;
    root.abortReady?.();
    await watcher.close().catch((error: Error) => {
      this.#log.warn({ root: root.path, err: error.message }, 'closing a watcher failed');
    });
  }

  /**
   * chokidar compares a folder's entries by name and keeps one fs.watch per
   * path, so a folder deleted and re-created (`rm -rf plan && mkdir plan`)
   * before chokidar reads its parent keeps the old watches on the deleted
   * inodes: nothing written into the new folder is reported, ever. A folder's
   * own watch reports its deletion (a `rename` of its own name), its parent's
   * watch the deletion and the creation: each leads to a check of the folder.
   */
  #onRaw(root: Root, watcher: FSWatcher, event: string, name: unknown, watched?: string): void {
    if (event !== 'rename' || typeof name !== 'string' || !watched) return;
    const dir = root.dirs.get(watched);
    // Not a folder's watch: a file's own watch.
    if (!dir) return;
    if (name === basename(watched)) {
      dir.dead = true;
      void this.#recheck(root, watcher, watched);
    }
    const child = join(watched, name);
    if (root.dirs.has(child)) void this.#recheck(root, watcher, child);
  }

  /** Re-reads a folder that is on disk but no longer the one chokidar watches, or that it forgot. */
  async #recheck(root: Root, watcher: FSWatcher, path: string): Promise<void> {
    const now = await stat(path).then(
      (s) => (s.isDirectory() ? s : null),
      () => null,
    );
    // Gone: its parent's watch reports it when it comes back.
    if (!now || root.watcher !== watcher || this.#stopped) return;
    const known = root.dirs.get(path);
    if (known && !known.dead && known.ino === now.ino) return;
    if (path === root.path) {
      root.ino = -1;
      void this.#ensure(root);
      return;
    }
    const internals = watcher as unknown as Rescan;
    if (!known) {
      // chokidar dropped it after a read that saw it missing: watch it again if its parent is watched.
      if (root.dirs.has(dirname(path))) this.#watchDir(root, internals, path);
      return;
    }
    // Re-reading the highest replaced folder re-reads all below it.
    let top = path;
    for (let up = dirname(path); up.startsWith(root.path + sep); up = dirname(up)) {
      if (root.dirs.get(up)?.dead) top = up;
    }
    if (typeof internals._remove !== 'function') {
      root.ino = -1;
      void this.#ensure(root);
      return;
    }
    // Forgetting emits `unlink`/`unlinkDir` for the old entries (chokidar turns an
    // unlink followed by an add within 100 ms into a change); the read adds the new ones.
    root.forgetting = true;
    try {
      internals._remove(dirname(top), basename(top), true);
    } finally {
      root.forgetting = false;
    }
    for (const dir of root.dirs.keys()) {
      if (dir === top || dir.startsWith(top + sep)) root.dirs.delete(dir);
    }
    this.#watchDir(root, internals, top);
  }

  /**
   * chokidar reads a new folder, then watches it: what is created in between
   * (a plan folder's files written right after `mkdir`) is never reported. A
   * second read once the watch is in place finds it. The initial scan is not
   * read twice: it is there before the watcher reports ready.
   */
  #readAgainWhenWatched(root: Root, watcher: FSWatcher): void {
    const internals = watcher as unknown as Rescan;
    const addPathCloser = internals._addPathCloser;
    if (typeof addPathCloser !== 'function') return;
    internals._addPathCloser = (path, closer) => {
      addPathCloser.call(watcher, path, closer);
      if (root.scanning === null && root.dirs.has(path)) void this.#readAgain(root, watcher, path);
    };
  }

  async #readAgain(root: Root, watcher: FSWatcher, dir: string): Promise<void> {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    const internals = watcher as unknown as Rescan;
    const known = internals._watched?.get(dir);
    if (!known || root.watcher !== watcher || this.#stopped) return;
    for (const entry of entries) {
      if ((entry.isFile() || entry.isDirectory()) && !known.has(entry.name)) {
        this.#watchDir(root, internals, join(dir, entry.name));
      }
    }
  }

  /** Has chokidar watch a file or folder (and read it) as if its parent's read had just found it. */
  #watchDir(root: Root, internals: Rescan, path: string): void {
    const handler = internals._nodeFsHandler;
    if (
      typeof handler?._addToNodeFs !== 'function' ||
      typeof internals._incrReadyCount !== 'function'
    ) {
      // Without these internals only a new watcher reads the folder.
      root.ino = -1;
      void this.#ensure(root);
      return;
    }
    internals._incrReadyCount();
    const depth = relative(root.path, path).split(sep).length;
    Promise.resolve(handler._addToNodeFs(path, false, undefined, depth)).catch((error: Error) =>
      this.#onError(root, error as NodeJS.ErrnoException),
    );
  }

  #route(
    root: Root,
    watcher: FSWatcher,
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
    clearTimeout(this.#trailing.get(path));
    this.#trailing.delete(path);
    let matched = false;
    for (const handler of this.#opts.handlers) {
      try {
        if (!handler.match(relPath)) continue;
        matched = true;
        const pending = handler.handle(event);
        if (pending) {
          const handled = pending.catch((error: unknown) =>
            this.#handlerFailed(handler, path, error),
          );
          root.scanning?.push(handled);
        }
      } catch (error) {
        this.#handlerFailed(handler, path, error);
      }
    }
    if (matched && stats && kind !== 'unlink') this.#checkLater(root, watcher, path, stats);
  }

  #checkLater(root: Root, watcher: FSWatcher, path: string, seen: Stats): void {
    const timer = setTimeout(() => {
      this.#trailing.delete(path);
      stat(path).then(
        (now) => {
          const same =
            now.size === seen.size && now.mtimeMs === seen.mtimeMs && now.ino === seen.ino;
          if (!same && now.isFile()) this.#route(root, watcher, 'change', path, now);
        },
        // Gone: the unlink event reports it.
        () => undefined,
      );
    }, TRAILING_CHECK_MS);
    timer.unref();
    this.#trailing.set(path, timer);
  }

  #handlerFailed(handler: FileHandler, path: string, error: unknown): void {
    this.stats.errors++;
    this.#log.error(
      { handler: handler.name, path, err: (error as Error)?.message },
      'file handler failed',
    );
  }

  #onError(root: Root, error: NodeJS.ErrnoException): void {
    this.stats.errors++;
    const code = error.code ?? 'unknown';
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
