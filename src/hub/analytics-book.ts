import {
  combineContributions,
  DurationTally,
  iterationsToGreen,
} from '../core/metrics/analytics.ts';
import type { Analytics, TestIteration } from '../shared/metrics.ts';
import type { SessionStore, StoredTransition, TransitionsSince } from '../store/types.ts';

/** The in-memory figures of one session (its metrics account), cheap to read. */
export interface SessionExtras {
  tokensByPhase: Record<string, { input: number; output: number }> | null;
  testIterations: readonly TestIteration[];
}

export interface AnalyticsBookOptions {
  /** Where the sessions and their phase transitions are stored. */
  store: Pick<SessionStore, 'listSessions' | 'transitionsSince'>;
  /** A session's token figures and test iterations, by key. */
  extras: (key: string) => SessionExtras;
}

/** What the book keeps of one stored session. */
interface Entry {
  /** Phase durations over every transition of the session with an id up to `lastId`. */
  tally: DurationTally;
  lastId: number;
  tokensByPhase: ReadonlyMap<string, number> | null;
  iterationsToGreen: number | null;
}

/**
 * Keeps each stored session's contribution to the cross-session analytics, so
 * a recompute costs what changed since the last one, not the length of the
 * sessions' histories:
 *
 * - transitions: one read of the rows stored since the last recompute (all
 *   sessions; `transitionsSince` on the row id) extends each session's phase
 *   durations. A session's whole history is read only when the book has not
 *   seen it yet (new, forgotten, after `reset`), when a transition earlier
 *   than its last one arrives (durations are between consecutive
 *   transitions), or after the store deleted transitions (retention);
 * - tokens and test iterations (in memory, see `extras`): taken again for the
 *   sessions marked dirty;
 * - states and the sessions counted: the store's list, read every time, so a
 *   session the store no longer has leaves the analytics, one it gained joins.
 *
 * The result equals `computeAnalytics` over the full history. Recomputes run
 * one at a time (a call waits for the one running).
 */
export class AnalyticsBook {
  readonly #store: AnalyticsBookOptions['store'];
  readonly #extras: AnalyticsBookOptions['extras'];
  readonly #entries = new Map<string, Entry>();
  /** Sessions whose tokens or tests may have changed. */
  readonly #dirty = new Set<string>();
  /** Sessions whose entry is dropped at the next recompute (read again if still stored). */
  readonly #forgotten = new Set<string>();
  #resetPending = false;
  /**
   * Every transition with an id up to this is in the entry of its session (if
   * it has one); null when no entry is kept.
   */
  #cursor: number | null = null;
  /** The store's `deletions` when the entries were read. */
  #deletions: number | null = null;
  #running: Promise<unknown> = Promise.resolve();
  #fullReads = 0;

  constructor(opts: AnalyticsBookOptions) {
    this.#store = opts.store;
    this.#extras = opts.extras;
  }

  /** The session's tokens or tests changed: take them again next time (transitions are read anyway). */
  markDirty(key: string): void {
    this.#dirty.add(key);
  }

  /** Drops a session's contribution (pruned or forgotten); read again only if still stored. */
  forget(key: string): void {
    this.#forgotten.add(key);
  }

  /** Forgets every contribution: the next recompute reads everything once (a restore). */
  reset(): void {
    this.#resetPending = true;
  }

  /** Sessions whose contribution is kept. */
  get size(): number {
    return this.#entries.size;
  }

  /** Sessions waiting for their tokens or tests to be taken again. */
  get dirty(): number {
    return this.#dirty.size;
  }

  /** Whole session histories read since the book was made (new sessions and fallbacks). */
  get fullReads(): number {
    return this.#fullReads;
  }

  /** The analytics of every stored session; reads only what was stored since the last call. */
  compute(): Promise<Analytics> {
    const run = this.#running.then(
      () => this.#compute(),
      () => this.#compute(),
    );
    this.#running = run.catch(() => undefined);
    return run;
  }

  async #compute(): Promise<Analytics> {
    if (this.#resetPending) {
      this.#resetPending = false;
      this.#forgotten.clear();
      this.#dropAll();
    }
    for (const key of this.#forgotten) this.#entries.delete(key);
    this.#forgotten.clear();

    const statuses = await this.#store.listSessions();
    const stored = new Set<string>();
    for (const status of statuses) stored.add(status.id);
    for (const key of this.#entries.keys()) if (!stored.has(key)) this.#entries.delete(key);
    for (const key of this.#dirty) if (!stored.has(key)) this.#dirty.delete(key);
    if (this.#entries.size === 0) this.#dropAll();

    if (this.#cursor !== null) {
      const since = await this.#store.transitionsSince(this.#cursor);
      if (since.deletions !== this.#deletions) {
        // Sessions may have lost rows and ids may be reused: nothing kept can be trusted.
        this.#dropAll();
      } else {
        this.#cursor = since.lastId;
        for (const [key, list] of bySession(since.transitions)) {
          const entry = this.#entries.get(key);
          if (!entry) continue; // Read whole below, if stored.
          // Dropped at once: if reading it whole fails, the next recompute tries again.
          if (!this.#append(entry, list)) this.#entries.delete(key);
        }
      }
    }

    const toRead: string[] = [];
    for (const status of statuses) {
      if (!this.#entries.has(status.id)) toRead.push(status.id);
    }
    // One at a time: a read is synchronous underneath, so parallel reads would not overlap anyway.
    let cursor = this.#cursor;
    for (const key of toRead) {
      const read = await this.#store.transitionsSince(0, key);
      this.#fullReads++;
      if (this.#deletions !== null && read.deletions !== this.#deletions) {
        // Retention ran in between: start again with nothing kept.
        this.#dropAll();
        return this.#compute();
      }
      this.#deletions = read.deletions;
      // Rows of other sessions after `read.lastId` are read by the next recompute.
      cursor = cursor === null ? read.lastId : Math.min(cursor, read.lastId);
      const tally = new DurationTally();
      tally.extend(read.transitions);
      this.#entries.set(key, {
        tally,
        lastId: maxId(read.transitions),
        ...this.#taken(key),
      });
      this.#dirty.delete(key);
    }
    if (this.#cursor === null) this.#cursor = cursor;

    const list = [];
    for (const status of statuses) {
      const entry = this.#entries.get(status.id);
      if (!entry) continue;
      if (this.#dirty.delete(status.id)) Object.assign(entry, this.#taken(status.id));
      list.push({
        state: status.state,
        phaseDurations: entry.tally.durations,
        tokensByPhase: entry.tokensByPhase,
        iterationsToGreen: entry.iterationsToGreen,
      });
    }
    return combineContributions(list);
  }

  /** Extends the entry with the session's rows read since; false when its whole history must be read. */
  #append(entry: Entry, rows: StoredTransition[]): boolean {
    // Rows up to `lastId` are in already (read whole after the cursor was set).
    const fresh = rows.filter((t) => t.id > entry.lastId);
    if (fresh.length === 0) return true;
    // Oldest id first, so equal times stay in id order, as in the full history.
    if (!entry.tally.extend(fresh)) return false;
    entry.lastId = maxId(fresh);
    return true;
  }

  /** The session's figures that live in memory (tokens, tests), taken now. */
  #taken(key: string): Pick<Entry, 'tokensByPhase' | 'iterationsToGreen'> {
    const extras = this.#extras(key);
    let tokensByPhase: Map<string, number> | null = null;
    if (extras.tokensByPhase) {
      tokensByPhase = new Map();
      for (const [phase, t] of Object.entries(extras.tokensByPhase))
        tokensByPhase.set(phase, t.input + t.output);
    }
    return { tokensByPhase, iterationsToGreen: iterationsToGreen(extras.testIterations) };
  }

  #dropAll(): void {
    this.#entries.clear();
    this.#cursor = null;
    this.#deletions = null;
  }
}

function bySession(rows: TransitionsSince['transitions']): Map<string, StoredTransition[]> {
  const out = new Map<string, StoredTransition[]>();
  for (const t of rows) {
    const list = out.get(t.sessionKey);
    if (list) list.push(t);
    else out.set(t.sessionKey, [t]);
  }
  return out;
}

function maxId(rows: readonly StoredTransition[]): number {
  let max = 0;
  for (const t of rows) if (t.id > max) max = t.id;
  return max;
}
