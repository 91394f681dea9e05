import type { SessionStatus } from '../shared/model.ts';
import type { TopicData } from '../shared/topics.ts';
import { topic } from '../shared/topics.ts';
import type { Hub } from './types.ts';

/** What the `sessions` topic shows of each session, and how it keeps within a size budget. */
export interface ListPolicy {
  /** A session's entry in the list, and what it costs of the budget. */
  entry(key: string, status: SessionStatus): { entry: SessionStatus; chars: number };
  /** The whole topic for these sessions, within the budget. */
  whole(sessions: Iterable<readonly [string, SessionStatus]>): TopicData['sessions'];
  /** What the entries may cost together before `whole` has to summarise or leave some out. */
  budget: number;
}

/** Every session whole, no budget: the list as it was before budgets. */
export const WHOLE_LIST: ListPolicy = {
  entry: (_key, status) => ({ entry: status, chars: 0 }),
  whole: (sessions) => {
    const out: Record<string, SessionStatus> = {};
    for (const [key, status] of sessions) out[key] = status;
    return { sessions: out };
  },
  budget: Number.POSITIVE_INFINITY,
};

/** How long, past the budget, the list may wait to be ranked again after a change. */
const RERANK_MS = 1000;

/**
 * Publishes the `sessions` topic at a cost proportional to what changed: a
 * change sets its own entries (`Hub.setEntries`), never rebuilds and diffs
 * the list (every phase file of a 20,000-folder start did). Only crossing
 * the budget builds it whole; past the budget (where `whole` ranks and
 * summarises), the changed entries are set at once and the list is ranked
 * again at most every `RERANK_MS`.
 */
export class SessionsTopic {
  readonly #hub: Hub;
  readonly #all: () => Iterable<readonly [string, SessionStatus]>;
  readonly #policy: ListPolicy;
  readonly #chars = new Map<string, number>();
  #total = 0;
  /** The topic holds every session whole (it was within the budget when last built). */
  #within = false;
  #rerank: NodeJS.Timeout | null = null;

  constructor(
    hub: Hub,
    all: () => Iterable<readonly [string, SessionStatus]>,
    policy: ListPolicy = WHOLE_LIST,
  ) {
    this.#hub = hub;
    this.#all = all;
    this.#policy = policy;
  }

  /** Builds the whole topic (after a restore). */
  publishAll(): void {
    this.#cancelRerank();
    this.#chars.clear();
    this.#total = 0;
    for (const [key, status] of this.#all()) this.#count(key, status);
    this.#within = this.#total <= this.#policy.budget;
    this.#hub.set(topic('sessions'), this.#policy.whole(this.#all()));
  }

  /** Sessions changed (`undefined`: removed). */
  changed(changes: ReadonlyMap<string, SessionStatus | undefined>): void {
    for (const [key, status] of changes) this.#count(key, status);
    const within = this.#total <= this.#policy.budget;
    if (within !== this.#within) {
      this.publishAll();
      return;
    }
    const entries = new Map<string, SessionStatus | undefined>();
    for (const [key, status] of changes) {
      entries.set(key, status && this.#policy.entry(key, status).entry);
    }
    // Past the budget a changed session is the newest, listed first: right now; the rest soon.
    this.#hub.setEntries(topic('sessions'), 'sessions', entries);
    if (!within) this.#scheduleRerank();
  }

  close(): void {
    this.#cancelRerank();
  }

  #count(key: string, status: SessionStatus | undefined): void {
    this.#total -= this.#chars.get(key) ?? 0;
    if (status === undefined) {
      this.#chars.delete(key);
      return;
    }
    const chars = this.#policy.entry(key, status).chars;
    this.#chars.set(key, chars);
    this.#total += chars;
  }

  #scheduleRerank(): void {
    if (this.#rerank) return;
    this.#rerank = setTimeout(() => {
      this.#rerank = null;
      this.publishAll();
    }, RERANK_MS);
    this.#rerank.unref();
  }

  #cancelRerank(): void {
    if (this.#rerank) clearTimeout(this.#rerank);
    this.#rerank = null;
  }
}
