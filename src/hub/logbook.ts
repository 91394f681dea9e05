import type { Logger } from 'pino';
import type { LogLine } from '../shared/model.ts';
import { topic } from '../shared/topics.ts';
import type { LogStore } from '../store/types.ts';
import type { Hub } from './types.ts';

/** Lines kept per session, in memory and in the `logs:<key>` topic. */
export const DEFAULT_LOG_CAP = 1000;

/** A session's log leaves memory after this long without a line or a reader. */
export const DEFAULT_LOG_IDLE_MS = 10 * 60_000;

interface Ring {
  lines: LogLine[];
  next: number;
  /** False while older lines are in the store only (lines appended to a cold session). */
  complete: boolean;
  /** Last append or load, for eviction. */
  touchedAt: number;
}

export interface LogBookOptions {
  cap?: number;
  /** Where lines are kept across restarts; without it they live in memory only. */
  store?: LogStore;
  /** Reports a failed save or load (the store's contract is never to reject, but a bug must not go unheard). */
  logger?: Pick<Logger, 'error'>;
  now?: () => number;
}

/**
 * The live log of each session: numbers lines, keeps the last `cap` per
 * session, and appends them to the session's `logs:<key>` topic. Every
 * producer of log lines (phase changes, warnings, events.jsonl,
 * /api/broadcast) goes through one LogBook so numbering stays monotonic.
 *
 * With a store, a session's lines are in memory only while they are used:
 * `warm` loads them when a reader asks (a subscription, the HTTP tail) and
 * `sweep` drops the ones nobody wrote or read for a while. Memory then
 * follows what is being watched, not the days of history kept, and a restart
 * loads no log at all. Only the newest line number of every session stays
 * (`loadHeads`), so numbering continues across evictions and restarts.
 */
export class LogBook {
  readonly #hub: Hub;
  readonly #cap: number;
  readonly #store: LogStore | undefined;
  readonly #log: Pick<Logger, 'error'> | undefined;
  readonly #now: () => number;
  readonly #rings = new Map<string, Ring>();
  /** Newest line number of sessions whose lines are not in memory. */
  readonly #heads = new Map<string, number>();
  readonly #loading = new Map<string, Promise<void>>();
  /** Lines appended this turn, saved together in a microtask. */
  readonly #unsaved = new Map<string, LogLine[]>();

  constructor(hub: Hub, opts: LogBookOptions = {}) {
    this.#hub = hub;
    this.#cap = Math.max(1, Math.trunc(opts.cap ?? DEFAULT_LOG_CAP));
    this.#store = opts.store;
    this.#log = opts.logger;
    this.#now = opts.now ?? Date.now;
  }

  /** Reads the newest stored line number of every session; call once before the first `append`. */
  async loadHeads(): Promise<void> {
    if (!this.#store) return;
    for (const [key, n] of await this.#store.logHeads()) {
      if (!this.#rings.has(key)) this.#heads.set(key, n);
    }
  }

  append(key: string, line: Omit<LogLine, 'n'>): LogLine {
    let ring = this.#rings.get(key);
    if (!ring) {
      const head = this.#heads.get(key);
      this.#heads.delete(key);
      ring = { lines: [], next: (head ?? 0) + 1, complete: head === undefined, touchedAt: 0 };
      this.#rings.set(key, ring);
    }
    ring.touchedAt = this.#now();
    const numbered: LogLine = { n: ring.next++, ...line };
    ring.lines.push(numbered);
    // Trim in batches: one splice per `cap` appends instead of a shift each time.
    if (ring.lines.length >= this.#cap * 2) ring.lines = ring.lines.slice(-this.#cap);
    this.#hub.append(topic('logs', key), [numbered], this.#cap);
    if (this.#store) this.#queueSave(key, numbered);
    return numbered;
  }

  /**
   * Brings a session's stored lines into memory and its `logs:<key>` topic,
   * before a reader looks. Null when there is nothing to load (no store, or
   * the lines are in memory), so callers stay synchronous then. Never rejects.
   */
  warm(key: string): Promise<void> | null {
    if (!this.#store) return null;
    const ring = this.#rings.get(key);
    if (ring?.complete) {
      ring.touchedAt = this.#now();
      return null;
    }
    if (!ring && !this.#heads.has(key)) return null;
    let loading = this.#loading.get(key);
    if (!loading) {
      loading = this.#load(key).finally(() => this.#loading.delete(key));
      this.#loading.set(key, loading);
    }
    return loading;
  }

  /** `tail`, after loading the session's lines if they are not in memory. */
  async read(key: string, n: number): Promise<LogLine[]> {
    await this.warm(key);
    return this.tail(key, n);
  }

  /** The newest `n` lines of a session in memory (at most `cap`), oldest first. */
  tail(key: string, n: number): LogLine[] {
    const ring = this.#rings.get(key);
    if (!ring || !(n > 0)) return [];
    const count = Math.min(Math.trunc(n), this.#cap, ring.lines.length);
    return ring.lines.slice(ring.lines.length - count);
  }

  /** Number of the session's newest line, in memory or not; null when it has none. */
  head(key: string): number | null {
    const ring = this.#rings.get(key);
    if (ring) return ring.next > 1 ? ring.next - 1 : null;
    return this.#heads.get(key) ?? null;
  }

  /**
   * Drops from memory (and the hub) the logs of sessions with no line and no
   * load for `idleMs` that `inUse` does not claim (a topic with readers).
   * They come back with `warm`. Only with a store: otherwise memory is all
   * there is. Returns how many were dropped.
   */
  sweep(inUse: (key: string) => boolean, idleMs = DEFAULT_LOG_IDLE_MS): number {
    if (!this.#store) return 0;
    const before = this.#now() - idleMs;
    let dropped = 0;
    for (const [key, ring] of this.#rings) {
      if (ring.touchedAt > before || this.#unsaved.has(key) || this.#loading.has(key)) continue;
      if (inUse(key)) continue;
      this.#rings.delete(key);
      if (ring.next > 1) this.#heads.set(key, ring.next - 1);
      this.#hub.remove(topic('logs', key));
      dropped++;
    }
    return dropped;
  }

  /** Sessions whose lines are in memory. */
  get size(): number {
    return this.#rings.size;
  }

  /** Forgets a session's lines (a pruned session). */
  forget(key: string): void {
    this.#rings.delete(key);
    this.#heads.delete(key);
    this.#unsaved.delete(key);
    this.#hub.remove(topic('logs', key));
  }

  async #load(key: string): Promise<void> {
    let stored: LogLine[];
    try {
      stored = await (this.#store as LogStore).logLines(key, this.#cap);
    } catch (error) {
      this.#log?.error(
        { err: (error as Error)?.message, session: key },
        'loading log lines failed',
      );
      return;
    }
    if (!this.#rings.has(key) && !this.#heads.has(key)) return; // forgotten meanwhile
    const ring = this.#rings.get(key);
    const newer = ring?.lines ?? [];
    const first = newer[0]?.n ?? Number.POSITIVE_INFINITY;
    const lines = [...stored.filter((l) => l.n < first), ...newer].slice(-this.#cap);
    const head = this.#heads.get(key) ?? 0;
    this.#heads.delete(key);
    const last = lines.at(-1)?.n ?? 0;
    this.#rings.set(key, {
      // Its own array: the hub owns the one it is handed, and appends push here.
      lines: [...lines],
      next: Math.max(ring?.next ?? 1, head + 1, last + 1),
      complete: true,
      touchedAt: this.#now(),
    });
    // Readers of a topic made by appends since see older lines arrive as one replace.
    if (lines.length > newer.length || !this.#hub.get(topic('logs', key))) {
      this.#hub.set(topic('logs', key), { lines });
    }
  }

  /**
   * One store write per session per turn. The microtask runs before the
   * store commits the turn (setImmediate), so lines and the tail offset saved
   * after them in the same turn become durable together.
   */
  #queueSave(key: string, line: LogLine): void {
    const pending = this.#unsaved.get(key);
    if (pending) {
      pending.push(line);
      return;
    }
    if (this.#unsaved.size === 0) queueMicrotask(() => this.#save());
    this.#unsaved.set(key, [line]);
  }

  #save(): void {
    const store = this.#store as LogStore;
    for (const [key, lines] of this.#unsaved) {
      store.saveLogLines(key, lines).catch((error: unknown) => {
        this.#log?.error(
          { err: (error as Error)?.message, session: key },
          'saving log lines failed',
        );
      });
    }
    this.#unsaved.clear();
  }
}
