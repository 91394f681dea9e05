import { type FSWatcher, type Stats, watch } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { basename, dirname, join, sep } from 'node:path';
import { IoLimit } from './io-limit.ts';

/** What a tree watch reports about one file. */
export type TreeFileKind = 'add' | 'change' | 'unlink';

export interface TreeWatchOptions {
  root: string;
  /** Folder levels below the root that are watched (0: the root's own files only). */
  depth: number;
  /** Folder names never descended into. */
  ignore: (name: string) => boolean;
  /** Re-read the tree every `pollMs` instead of watching it (network filesystems). */
  pollMs?: number;
  onFile: (kind: TreeFileKind, path: string, stats?: Stats) => void;
  /** The root folder itself is gone (deleted or moved away). */
  onRootGone: () => void;
  /**
   * A folder could not be watched or read (ENOSPC, EMFILE...). Out of file
   * descriptors (EMFILE, ENFILE), the read or watch is retried with backoff
   * until it works; `retrying` says so.
   */
  onError: (error: NodeJS.ErrnoException, path: string, retrying: boolean) => void;
  /** Retries of what failed for lack of file descriptors all worked: `count` paths were read late. */
  onRecovered?: (count: number) => void;
  /** Folders and entries read at the same time at most (default 64): a big tree must not exhaust descriptors itself. */
  concurrency?: number;
  /** First retry delay after EMFILE/ENFILE, doubled up to 5 s (default 100 ms). */
  retryMs?: number;
}

interface Dir {
  path: string;
  depth: number;
  handle: FSWatcher | null;
  /** Tick of the clock when its watch was placed: events received before it are already covered. */
  openedAt: number;
  /** Names of the files and watched folders known in it. */
  children: Set<string>;
  /** Listed at least once. */
  read: boolean;
}

interface FileInfo {
  ino: number;
  size: number;
  mtimeMs: number;
}

/** Why an entry is looked at: an fs event (rename: created, deleted or moved) or a folder read. */
type Cause = 'scan' | 'change' | 'rename';
const STRENGTH: Record<Cause, number> = { scan: 0, change: 1, rename: 2 };

interface Job {
  /** The folder object the entry was seen in: a folder watched afresh is a new one. */
  parent: Dir;
  cause: Cause;
  seq: number;
}

interface Pending {
  next: Job | null;
  done: Promise<void>;
}

/** Errors that mean "not there (any more)" or "not ours to read": nothing to report. */
const QUIET = new Set(['ENOENT', 'ENOTDIR', 'EACCES', 'EPERM']);
/** Out of file descriptors (process or system) or kernel memory: worth trying again later. */
const BUSY = new Set(['EMFILE', 'ENFILE', 'ENOMEM', 'EAGAIN']);
const MAX_RETRY_MS = 5000;

function isBusy(error: unknown): error is NodeJS.ErrnoException {
  return BUSY.has((error as NodeJS.ErrnoException)?.code ?? '');
}

/**
 * A recursive watch of one folder tree: one `fs.watch` per folder, each placed
 * before the folder is read, so a file written right after its folder was
 * created is seen either by the read or by the watch. A folder reported as
 * created, deleted or moved after its watch was placed is watched afresh, so
 * a folder deleted and re-created (even with the same inode number) never
 * keeps a dead watch. Every path is looked at by one `lstat` at a time; an
 * event arriving meanwhile queues exactly one more look, so the last write of
 * a burst is always reported. Files are compared with what was last seen, so
 * re-reading a folder reports only what changed. `close()` is synchronous and
 * final: reads still in flight open nothing afterwards.
 *
 * (chokidar 5 read a new folder before watching it, kept watching a deleted
 * folder when it was re-created faster than it re-read the parent, and could
 * not be told to stop a folder read already started.)
 */
export class TreeWatch {
  readonly #opts: TreeWatchOptions;
  readonly #dirs = new Map<string, Dir>();
  readonly #files = new Map<string, FileInfo>();
  readonly #pending = new Map<string, Pending>();
  #clock = 0;
  #closed = false;
  #poll: NodeJS.Timeout | null = null;
  #polling: Promise<void> | null = null;
  #rootIno: number | null = null;
  /** Folders and entries waiting to be read (or watched) again after EMFILE..., by path. */
  readonly #retries = new Map<string, NodeJS.Timeout>();
  /** Backoff of the paths still failing, kept between attempts. */
  readonly #lastDelay = new Map<string, number>();
  /** Paths retried since the last time nothing was waiting. */
  #retried = 0;
  #foldersRead = 0;

  readonly #io: IoLimit;

  constructor(opts: TreeWatchOptions) {
    this.#opts = opts;
    this.#io = new IoLimit(opts.concurrency ?? 64);
  }

  /** Folders read (listed) so far, each counted once: the scan's progress against `folders`. */
  get foldersRead(): number {
    return this.#foldersRead;
  }

  /** Paths waiting to be read again after running out of file descriptors. */
  get retrying(): number {
    return this.#retries.size;
  }

  /** Inode of the root folder as last opened (null before). */
  get rootIno(): number | null {
    return this.#rootIno;
  }

  /** Folders watched (or, when polling, read) right now. */
  get folders(): number {
    return this.#dirs.size;
  }

  /** Reads the whole tree, reporting every file as `add`; resolves when done. */
  async start(): Promise<void> {
    await this.#openRoot();
    const pollMs = this.#opts.pollMs;
    if (pollMs === undefined || this.#closed) return;
    this.#poll = setInterval(() => {
      const root = this.#dirs.get(this.#opts.root);
      if (this.#polling || !root) return;
      this.#polling = this.#scan(root).finally(() => {
        this.#polling = null;
      });
    }, pollMs);
    this.#poll.unref();
  }

  /** Stops every watch now; nothing is reported afterwards. */
  close(): void {
    this.#closed = true;
    if (this.#poll) clearInterval(this.#poll);
    this.#poll = null;
    for (const dir of this.#dirs.values()) dir.handle?.close();
    this.#dirs.clear();
    for (const timer of this.#retries.values()) clearTimeout(timer);
    this.#retries.clear();
    this.#lastDelay.clear();
    this.#io.close();
  }

  /**
   * Runs `again` later, with backoff, for a path that failed for lack of file
   * descriptors; one retry per path at a time, the delay doubling while it
   * keeps failing.
   */
  #retry(path: string, error: NodeJS.ErrnoException, again: () => Promise<void>): void {
    if (this.#closed) return;
    if (this.#retries.has(path)) return;
    const last = this.#lastDelay.get(path);
    const delayMs =
      last === undefined ? (this.#opts.retryMs ?? 100) : Math.min(last * 2, MAX_RETRY_MS);
    this.#lastDelay.set(path, delayMs);
    if (last === undefined) {
      this.#retried++;
      this.#opts.onError(error, path, true);
    }
    const timer = setTimeout(() => {
      this.#retries.delete(path);
      if (this.#closed) return;
      void again().finally(() => this.#settled(path));
    }, delayMs);
    timer.unref();
    this.#retries.set(path, timer);
  }

  /** An attempt at a retried path ended: if it did not fail again, it is done. */
  #settled(path: string): void {
    if (this.#retries.has(path) || this.#closed) return;
    this.#lastDelay.delete(path);
    if (this.#lastDelay.size > 0 || this.#retried === 0) return;
    const count = this.#retried;
    this.#retried = 0;
    this.#opts.onRecovered?.(count);
  }

  async #openRoot(): Promise<void> {
    const root = this.#opts.root;
    const stats = await lstat(root).catch(() => null);
    if (this.#closed) return;
    if (!stats?.isDirectory()) {
      this.#opts.onRootGone();
      return;
    }
    this.#rootIno = stats.ino;
    const stale = this.#dirs.has(root) ? this.#closeTree(root) : [];
    await this.#open(root, 0);
    this.#unlinkGone(stale);
  }

  async #open(path: string, depth: number): Promise<void> {
    if (this.#closed) return;
    const dir: Dir = {
      path,
      depth,
      handle: null,
      openedAt: ++this.#clock,
      children: new Set(),
      read: false,
    };
    this.#dirs.set(path, dir);
    const busy = this.#opts.pollMs === undefined ? this.#watch(dir) : null;
    // Not watched for lack of descriptors: placed again later, then the folder is read again.
    if (busy) this.#retry(`${path}${sep}`, busy, () => this.#rewatch(dir));
    await this.#scan(dir);
  }

  /** Places the folder's watch; the error when it failed for lack of file descriptors. */
  #watch(dir: Dir): NodeJS.ErrnoException | null {
    try {
      dir.handle = watch(dir.path, { persistent: false }, (type, name) =>
        this.#onEvent(dir, type, name),
      );
      dir.handle.on('error', (error) => this.#report(error as NodeJS.ErrnoException, dir.path));
    } catch (error) {
      if (isBusy(error)) return error;
      this.#report(error as NodeJS.ErrnoException, dir.path);
    }
    return null;
  }

  async #rewatch(dir: Dir): Promise<void> {
    if (this.#closed || this.#dirs.get(dir.path) !== dir || dir.handle) return;
    const busy = this.#watch(dir);
    if (busy) {
      this.#retry(`${dir.path}${sep}`, busy, () => this.#rewatch(dir));
      return;
    }
    // Whatever changed while it had no watch.
    await this.#scan(dir);
  }

  #onEvent(dir: Dir, type: string, name: string | null): void {
    if (this.#closed || this.#dirs.get(dir.path) !== dir) return;
    if (name === null) {
      // The kernel did not say which entry: read the folder again.
      void this.#scan(dir);
      return;
    }
    const cause: Cause = type === 'rename' ? 'rename' : 'change';
    if (dir.depth === 0 && name === basename(dir.path)) {
      void this.#checkRoot(dir, name, cause);
      return;
    }
    void this.#check(dir, name, cause);
  }

  /**
   * The root's own watch names the root itself when it is deleted or moved;
   * a child of the same name is told apart by whether it exists.
   */
  async #checkRoot(dir: Dir, name: string, cause: Cause): Promise<void> {
    const seq = ++this.#clock;
    const child = await lstat(join(dir.path, name)).catch(() => null);
    if (child || dir.children.has(name)) {
      await this.#check(dir, name, cause);
      if (child) return;
    }
    const root = await lstat(dir.path).catch(() => null);
    if (this.#closed || this.#dirs.get(dir.path) !== dir) return;
    if (!root?.isDirectory()) {
      this.#opts.onRootGone();
      return;
    }
    if (dir.openedAt < seq) await this.#openRoot();
  }

  /** Reads a folder: every entry listed or known is looked at. */
  async #scan(dir: Dir): Promise<void> {
    let names: string[];
    try {
      names = await this.#io.run(() => readdir(dir.path));
    } catch (error) {
      if (isBusy(error)) {
        // Until it is read, files created in it would be missed for good.
        this.#retry(dir.path, error, () =>
          this.#dirs.get(dir.path) === dir ? this.#scan(dir) : Promise.resolve(),
        );
      } else if (dir.depth === 0 && (error as NodeJS.ErrnoException).code === 'ENOENT') {
        this.#opts.onRootGone();
      }
      return;
    }
    if (this.#closed || this.#dirs.get(dir.path) !== dir) return;
    if (!dir.read) {
      dir.read = true;
      this.#foldersRead++;
    }
    // The listing may be older than events handled while it was read: an
    // entry it lacks is looked at (lstat decides), never dropped on its word.
    const present = new Set(names);
    for (const name of dir.children) if (!present.has(name)) names.push(name);
    await Promise.all(names.map((name) => this.#check(dir, name, 'scan')));
  }

  /** Looks at one entry, one look per path at a time; resolves when the queued looks are done. */
  #check(parent: Dir, name: string, cause: Cause): Promise<void> {
    const path = join(parent.path, name);
    const seq = ++this.#clock;
    const pending = this.#pending.get(path);
    if (pending) {
      const next = pending.next;
      pending.next = {
        parent,
        cause: next && STRENGTH[next.cause] > STRENGTH[cause] ? next.cause : cause,
        seq,
      };
      return pending.done;
    }
    const entry: Pending = { next: { parent, cause, seq }, done: Promise.resolve() };
    this.#pending.set(path, entry);
    entry.done = this.#drain(entry, name, path);
    return entry.done;
  }

  async #drain(entry: Pending, name: string, path: string): Promise<void> {
    try {
      for (let job = entry.next; job; job = entry.next) {
        entry.next = null;
        await this.#look(job.parent, name, path, job.cause, job.seq);
      }
    } finally {
      this.#pending.delete(path);
    }
  }

  async #look(parent: Dir, name: string, path: string, cause: Cause, seq: number): Promise<void> {
    let stats: Stats | null = null;
    try {
      stats = await this.#io.run(() => lstat(path));
    } catch (error) {
      if (isBusy(error)) {
        this.#retry(path, error, () => this.#check(parent, name, cause));
        return;
      }
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') return;
    }
    // A parent closed or watched afresh meanwhile: its new read covers this entry.
    if (this.#closed || this.#dirs.get(parent.path) !== parent) return;
    if (!stats) {
      this.#remove(parent, name);
      return;
    }
    if (stats.isDirectory()) {
      await this.#lookAtDir(parent, name, path, cause, seq);
      return;
    }
    if (!stats.isFile()) return; // Symlinks, sockets, devices: not followed, not reported.
    if (this.#dirs.has(path)) this.#remove(parent, name);
    parent.children.add(name);
    const seen = this.#files.get(path);
    this.#files.set(path, { ino: stats.ino, size: stats.size, mtimeMs: stats.mtimeMs });
    if (!seen) this.#opts.onFile('add', path, stats);
    else if (cause !== 'scan' || !sameFile(seen, stats)) this.#opts.onFile('change', path, stats);
  }

  async #lookAtDir(parent: Dir, name: string, path: string, cause: Cause, seq: number) {
    if (this.#files.has(path)) this.#remove(parent, name);
    if (parent.depth >= this.#opts.depth || this.#opts.ignore(name)) return;
    const known = this.#dirs.get(path);
    if (known && (cause !== 'rename' || known.openedAt > seq)) {
      // Polling has no events: a known folder is read again on every round.
      if (cause === 'scan' && this.#opts.pollMs !== undefined) await this.#scan(known);
      return;
    }
    // New, or created/deleted/moved after its watch was placed: watch it afresh.
    const stale = known ? this.#closeTree(path) : [];
    parent.children.add(name);
    await this.#open(path, parent.depth + 1);
    this.#unlinkGone(stale);
  }

  #remove(parent: Dir, name: string): void {
    parent.children.delete(name);
    const path = join(parent.path, name);
    if (this.#files.delete(path)) this.#opts.onFile('unlink', path);
    if (this.#dirs.has(path)) {
      for (const file of this.#closeTree(path)) {
        this.#files.delete(file);
        this.#opts.onFile('unlink', file);
      }
    }
  }

  /** Stops watching a folder and everything below it; returns the files known there. */
  #closeTree(path: string): string[] {
    const dir = this.#dirs.get(path);
    if (!dir) return [];
    dir.handle?.close();
    this.#dirs.delete(path);
    const files: string[] = [];
    for (const name of dir.children) {
      const child = join(path, name);
      if (this.#files.has(child)) files.push(child);
      else files.push(...this.#closeTree(child));
    }
    return files;
  }

  /** After a folder was read afresh: its files no longer there are reported gone. */
  #unlinkGone(files: readonly string[]): void {
    for (const file of files) {
      if (this.#closed || this.#dirs.get(dirname(file))?.children.has(basename(file))) continue;
      if (this.#files.delete(file)) this.#opts.onFile('unlink', file);
    }
  }

  #report(error: NodeJS.ErrnoException, path: string): void {
    if (this.#closed || QUIET.has(error.code ?? '')) return;
    this.#opts.onError(error, path, false);
  }
}

function sameFile(seen: FileInfo, now: Stats): boolean {
  return seen.ino === now.ino && seen.size === now.size && seen.mtimeMs === now.mtimeMs;
}
