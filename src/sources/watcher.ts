import type { Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, isAbsolute, relative, resolve, sep } from 'node:path';
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
 * Lets every `change` through chokidar at once. chokidar 5 suppresses a
 * path's change events for 50 ms after each one it emits, so a phase file
 * rewritten twice in quick succession reached us 50–75 ms late (through the
 * trailing check). Duplicate events are harmless here: the handlers coalesce
 * reads per file. `_throttle` is internal to chokidar (pinned at 5.0.0); if it
 * ever disappears this does nothing and the trailing check still delivers.
 */
function unthrottleChanges(watcher: FSWatcher): void {
  const internals = watcher as unknown as { _throttle?: Throttle };
  const original = internals._throttle;
  if (typeof original !== 'function') return;
  internals._throttle = (action, path, timeout) =>
    action === 'change'
      ? { timeoutObject: undefined, clear: () => 0, count: 0 }
      : original.call(watcher, action, path, timeout);
}

interface Root {
  path: string;
  watcher: FSWatcher | null;
  ino: number | null;
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
    unthrottleChanges(watcher);
    root.watcher = watcher;
    root.ino = ino;
    root.scanning = [];
    watcher.on('add', (path, stats) => this.#route(root, watcher, 'add', path, stats));
    watcher.on('change', (path, stats) => this.#route(root, watcher, 'change', path, stats));
    watcher.on('unlink', (path) => this.#route(root, watcher, 'unlink', path));
    watcher.on('unlinkDir', (path) => {
      if (path === root.path) void this.#ensure(root);
    });
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
