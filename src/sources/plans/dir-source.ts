import { basename, isAbsolute, relative, sep } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import type { PlanSourceEvent } from '../../core/plans/types.ts';
import { RootWatcher } from '../watcher.ts';
import { discoverPlans, groupOf, mapLimit, readPlanFolder } from './read.ts';

/** Paths under a plans folder that can change a plan (relative, `/`-separated). */
const RELEVANT =
  /^(?:[^/]+\/)*?[^/]+\/(?:PLAN_[^/]*\.md|parallel\.json|subplans\/[^/]+|execution\/[^/]+|execution\/feedbacks\/[^/]+)$/;

export interface PlansDirSourceOptions {
  /** Poll every N ms instead of OS file events (network filesystems). */
  pollMs?: number | null;
  /** Quiet time after the last file event before reading again (default 500 ms). */
  debounceMs?: number;
  /** Watcher trouble, in words (a lost watch, the inotify limit). */
  onNotice?: (message: string) => void;
}

/**
 * The plans of one plans folder (`livestream plans DIR`), as plan events: a
 * full scan, then, while watching, a re-read of only the plan folders that a
 * file event named — however many plans there are, a change in one costs one
 * folder read. A plan id is its folder name; two plans of the same name in
 * different grouping folders are `<grouping>/<NAME>`.
 */
export class PlansDirSource {
  readonly plansDir: string;
  readonly #emit: (event: PlanSourceEvent) => void;
  readonly #opts: PlansDirSourceOptions;
  /** Plan folder → the id it was published under. */
  readonly #ids = new Map<string, string>();
  readonly #dirty = new Set<string>();
  #rediscover = true;
  #watcher: RootWatcher | null = null;
  #watching = false;
  #debounce: NodeJS.Timeout | null = null;
  #loading: Promise<void> | null = null;
  #again = false;
  #closed = false;

  constructor(
    plansDir: string,
    emit: (event: PlanSourceEvent) => void,
    opts: PlansDirSourceOptions = {},
  ) {
    this.plansDir = plansDir;
    this.#emit = emit;
    this.#opts = opts;
  }

  /** Reads every plan once (then `synced`); rejects when the folder cannot be read. */
  scan(): Promise<void> {
    return this.#load();
  }

  /** Starts watching (after a first `scan`); changes made while the watch was set up are read too. */
  async watch(): Promise<void> {
    if (this.#closed || this.#watcher) return;
    const notices = this.#opts.onNotice;
    this.#watcher = new RootWatcher({
      roots: [this.plansDir],
      logger: pino({ level: 'warn', base: undefined }, noticeStream(notices)),
      ...(this.#opts.pollMs ? { pollMs: this.#opts.pollMs } : {}),
      handlers: [
        {
          name: 'plans-dashboard',
          match: (rel) => RELEVANT.test(rel),
          handle: (event) => {
            // The watcher's initial scan reports every file as added: the scan above read them.
            if (!this.#watching) return;
            this.#markChanged(event.path);
            this.#schedule();
          },
        },
      ],
    });
    await this.#watcher.start();
    this.#watching = true;
    // One cheap reconcile: what changed while the watch was being placed.
    await this.rescan();
  }

  /** Forgets every cache and reads every plan again (the dashboard's `r`). */
  rescan(): Promise<void> {
    this.#rediscover = true;
    for (const dir of this.#ids.keys()) this.#dirty.add(dir);
    return this.#load();
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#debounce) clearTimeout(this.#debounce);
    await this.#watcher?.stop();
    await this.#loading?.catch(() => undefined);
  }

  /** Notes a changed path (absolute). Paths outside the plans folder are ignored. */
  #markChanged(path: string): void {
    const rel = relative(this.plansDir, path);
    if (rel.startsWith('..') || isAbsolute(rel)) return;
    // The plan is the known folder the path lies in; a path in no known plan may be a new one.
    for (const planDir of this.#ids.keys()) {
      if (path === planDir || path.startsWith(planDir + sep)) {
        this.#dirty.add(planDir);
        return;
      }
    }
    this.#rediscover = true;
  }

  #schedule(): void {
    if (this.#debounce) clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => {
      this.#debounce = null;
      this.#load().catch(() => undefined);
    }, this.#opts.debounceMs ?? 500);
  }

  /** One read at a time; a request during a read runs once more after it. */
  #load(): Promise<void> {
    if (this.#loading) {
      this.#again = true;
      return this.#loading;
    }
    this.#loading = (async () => {
      try {
        do {
          this.#again = false;
          await this.#readChanged();
        } while (this.#again && !this.#closed);
      } finally {
        this.#loading = null;
      }
    })();
    return this.#loading;
  }

  async #readChanged(): Promise<void> {
    const rediscover = this.#rediscover;
    const dirty = new Set(this.#dirty);
    this.#rediscover = false;
    this.#dirty.clear();
    const paths = rediscover ? await discoverPlans(this.plansDir) : [...this.#ids.keys()];
    if (this.#closed) return;
    const keep = new Set(paths);
    for (const [path, id] of this.#ids) {
      if (keep.has(path)) continue;
      this.#ids.delete(path);
      this.#emit({ type: 'gone', id });
    }
    const stale = paths.filter((p) => dirty.has(p) || !this.#ids.has(p));
    const names = new Map<string, number>();
    for (const p of paths) names.set(basename(p), (names.get(basename(p)) ?? 0) + 1);
    await mapLimit(stale, 16, async (path) => {
      const group = groupOf(this.plansDir, path);
      // Plans of the same name in two groupings are told apart by their grouping.
      const id =
        (names.get(basename(path)) ?? 0) > 1 && group
          ? `${group}/${basename(path)}`
          : basename(path);
      const input = await readPlanFolder(path, id, group);
      if (this.#closed) return;
      const before = this.#ids.get(path);
      if (before !== undefined && (input === null || before !== id)) {
        this.#ids.delete(path);
        this.#emit({ type: 'gone', id: before });
      }
      if (!input) return;
      this.#ids.set(path, id);
      this.#emit({ type: 'plan', input });
    });
    if (!this.#closed) this.#emit({ type: 'synced' });
  }
}

/** Turns the watcher's log lines into notices for the user. */
function noticeStream(onNotice: ((message: string) => void) | undefined): Writable {
  return new Writable({
    write: (chunk: Buffer, _enc, done) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line) continue;
        try {
          const msg = String((JSON.parse(line) as { msg?: unknown }).msg ?? '');
          if (msg) onNotice?.(msg);
        } catch {
          // not a log record
        }
      }
      done();
    },
  });
}
