import type { LogLine } from '../shared/model.ts';
import { topic } from '../shared/topics.ts';
import type { Hub } from './types.ts';

/** Lines kept per session, in memory and in the `logs:<key>` topic. */
export const DEFAULT_LOG_CAP = 1000;

interface Ring {
  lines: LogLine[];
  next: number;
}

/**
 * The live log of each session: numbers lines, keeps the last `cap` per
 * session, and appends them to the session's `logs:<key>` topic. Every
 * producer of log lines (phase changes, warnings, events.jsonl,
 * /api/broadcast) goes through one LogBook so numbering stays monotonic.
 */
export class LogBook {
  readonly #hub: Hub;
  readonly #cap: number;
  readonly #rings = new Map<string, Ring>();

  constructor(hub: Hub, opts: { cap?: number } = {}) {
    this.#hub = hub;
    this.#cap = Math.max(1, Math.trunc(opts.cap ?? DEFAULT_LOG_CAP));
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
    return numbered;
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
    this.#hub.remove(topic('logs', key));
  }
}
