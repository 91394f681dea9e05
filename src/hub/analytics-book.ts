import {
  combineContributions,
  type SessionContribution,
  sessionContribution,
} from '../core/metrics/analytics.ts';
import type { Analytics, TestIteration } from '../shared/metrics.ts';
import type { SessionState } from '../shared/model.ts';
import type { SessionStore } from '../store/types.ts';

/** The in-memory figures of one session (its metrics account), cheap to read. */
export interface SessionExtras {
  tokensByPhase: Record<string, { input: number; output: number }> | null;
  testIterations: readonly TestIteration[];
}

export interface AnalyticsBookOptions {
  /** Where the sessions and their phase transitions are stored. */
  store: Pick<SessionStore, 'listSessions' | 'transitions'>;
  /** A session's token figures and test iterations, by key. */
  extras: (key: string) => SessionExtras;
}

/**
 * Keeps each stored session's contribution to the cross-session analytics,
 * so a recompute reads the transitions of the sessions marked dirty since the
 * last one (and of sessions it has not seen yet) instead of the whole
 * history. The list of stored sessions (one row each) is read every time, so
 * the sessions counted and their states are always the store's: a session
 * the store no longer has leaves the analytics, one it gained joins them.
 * The result equals `computeAnalytics` over the full history.
 */
export class AnalyticsBook {
  readonly #store: AnalyticsBookOptions['store'];
  readonly #extras: AnalyticsBookOptions['extras'];
  readonly #contributions = new Map<string, SessionContribution>();
  readonly #dirty = new Set<string>();
  /** Bumped on each change, so a read that raced a change is not kept as current. */
  readonly #versions = new Map<string, number>();

  constructor(opts: AnalyticsBookOptions) {
    this.#store = opts.store;
    this.#extras = opts.extras;
  }

  /** The session changed (status, transitions, tokens or tests): read it again next time. */
  markDirty(key: string): void {
    this.#versions.set(key, (this.#versions.get(key) ?? 0) + 1);
    this.#dirty.add(key);
  }

  /** Drops a session's contribution (pruned or forgotten); read again only if still stored. */
  forget(key: string): void {
    this.#contributions.delete(key);
    this.markDirty(key);
  }

  /** Forgets every contribution: the next recompute reads everything once (a restore). */
  reset(): void {
    for (const key of this.#contributions.keys()) this.markDirty(key);
    this.#contributions.clear();
  }

  /** Sessions whose contribution is kept. */
  get size(): number {
    return this.#contributions.size;
  }

  /** Sessions waiting to be read again. */
  get dirty(): number {
    return this.#dirty.size;
  }

  /** The analytics of every stored session; reads transitions of dirty and new sessions only. */
  async compute(): Promise<Analytics> {
    const statuses = await this.#store.listSessions();
    const stored = new Set<string>();
    const toRead: { key: string; version: number; state: SessionState }[] = [];
    for (const status of statuses) {
      stored.add(status.id);
      if (this.#dirty.has(status.id) || !this.#contributions.has(status.id)) {
        const version = this.#versions.get(status.id) ?? 0;
        toRead.push({ key: status.id, version, state: status.state });
      }
    }
    for (const key of this.#dirty) if (!stored.has(key)) this.#settle(key);
    for (const key of this.#contributions.keys()) if (!stored.has(key)) this.#settle(key);
    for (const { key } of toRead) this.#dirty.delete(key);
    const fresh = new Map<string, SessionContribution>();
    try {
      await Promise.all(
        toRead.map(async ({ key, state }) => {
          const transitions = await this.#store.transitions(key);
          fresh.set(key, sessionContribution({ state, transitions, ...this.#extras(key) }));
        }),
      );
    } catch (error) {
      for (const { key } of toRead) this.#dirty.add(key);
      throw error;
    }
    for (const { key, version } of toRead) {
      const c = fresh.get(key);
      if (!c) continue;
      this.#contributions.set(key, c);
      // Changed while being read: this read may predate the change.
      if ((this.#versions.get(key) ?? 0) !== version) this.#dirty.add(key);
    }
    const list: SessionContribution[] = [];
    for (const status of statuses) {
      let c = this.#contributions.get(status.id);
      if (!c) continue;
      if (c.state !== status.state) {
        c = { ...c, state: status.state };
        this.#contributions.set(status.id, c);
      }
      list.push(c);
    }
    return combineContributions(list);
  }

  /** A session the store does not have: nothing kept, nothing waiting. */
  #settle(key: string): void {
    this.#contributions.delete(key);
    this.#dirty.delete(key);
    this.#versions.delete(key);
  }
}
