import type { Logger } from 'pino';
import type { LogLine } from '../shared/model.ts';
import { topic } from '../shared/topics.ts';
import type { LogStore } from '../store/types.ts';
import type { Hub } from './types.ts';

/** Lines kept per session, in memory and in the `logs:<key>` topic. */
export const DEFAULT_LOG_CAP = 1000;

interface Ring {
  lines: LogLine[];
  next: number;
}

export interface LogBookOptions {
  cap?: number;
  /** Where lines are kept across restarts; without it they live in memory only. */
  store?: LogStore;
  /** Reports a failed save (the store's contract is never to reject, but a bug must not go unheard). */
  logger?: Pick<Logger, 'error'>;
}

/**
 * The live log of each session: numbers lines, keeps the last `cap` per
 * session, and appends them to the session's `logs:<key>` topic. Every
 * producer of log lines (phase changes, warnings, events.jsonl,
 * /api/broadcast) goes through one LogBook so numbering stays monotonic.
 * With a store, lines are saved and `restore` brings them back after a restart.
 */
export class LogBook {
  readonly #hub: Hub;
  readonly #cap: number;
  readonly #store: LogStore | undefined;
  readonly #log: Pick<Logger, 'error'> | undefined;
  readonly #rings = new Map<string, Ring>();
  /** Lines appended this turn, saved together in a microtask. */
  readonly #unsaved = new Map<string, LogLine[]>();

  constructor(hub: Hub, opts: LogBookOptions = {}) {
    this.#hub = hub;
    this.#cap = Math.max(1, Math.trunc(opts.cap ?? DEFAULT_LOG_CAP));
    this.#store = opts.store;
    this.#log = opts.logger;
  }

  append(key: string, line: Omit<LogLine, 'n'>): LogLine {
    let ring = this.#rings.get(key);
    if (!ring) {
      ring = { lines: [], next: 1 };
      this.#rings.set(key, ring);
    }
    const numbered: LogLine = { n: ring.next++, ...line };
    ring.lines.push(numbered);
    // Trim in batches: one splice per `cap` appends instead of a shift each time.
    if (ring.lines.length >= this.#cap * 2) ring.lines = ring.lines.slice(-this.#cap);
    this.#hub.append(topic('logs', key), [numbered], this.#cap);
    if (this.#store) this.#queueSave(key, numbered);
    return numbered;
  }

  /**
   * Brings back a session's stored lines (after a restart), so its history
   * shows and numbering continues after the last stored line. Call it before
   * the first `append` for the session; a session that already has lines in
   * memory is left as it is.
   */
  async restore(key: string): Promise<void> {
    if (!this.#store || this.#rings.has(key)) return;
    const lines = await this.#store.logLines(key, this.#cap);
    if (!this.#rings.has(key)) this.seed(key, lines);
  }

  /** The newest `n` lines of a session (at most `cap`), oldest first. */
  tail(key: string, n: number): LogLine[] {
    const ring = this.#rings.get(key);
    if (!ring || !(n > 0)) return [];
    const count = Math.min(Math.trunc(n), this.#cap, ring.lines.length);
    return ring.lines.slice(ring.lines.length - count);
  }

  /**
   * Continues a session's numbering after lines restored from history, so
   * clients that de-duplicate by `n` never drop new lines after a restart.
   */
  seed(key: string, lines: readonly LogLine[]): void {
    if (lines.length === 0) return;
    const kept = lines.slice(-this.#cap);
    const last = kept.at(-1) as LogLine;
    this.#rings.set(key, { lines: [...kept], next: last.n + 1 });
    this.#hub.append(topic('logs', key), kept, this.#cap);
  }

  /** Forgets a session's lines (a pruned session). */
  forget(key: string): void {
    this.#rings.delete(key);
    this.#unsaved.delete(key);
    this.#hub.remove(topic('logs', key));
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
