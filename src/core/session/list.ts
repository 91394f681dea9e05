import type { SessionStatus } from '../../shared/model.ts';
import type { TopicData } from '../../shared/topics.ts';
import { cutText } from './extras.ts';

/**
 * JSON characters the `sessions` topic's entries may take together. Every
 * viewer holds the whole list and gets it as one snapshot on every
 * (re)connect: past this, finished sessions are summarised, then left out,
 * oldest first, so the snapshot stays well under a client's send limit
 * instead of disconnecting every viewer. `GET /api/sessions` lists them all.
 */
export const SESSIONS_TOPIC_BUDGET = 4 * 1024 * 1024;

/** Of the budget past which the list degrades, the share summarised entries may take before the newest are made whole. */
const SUMMARY_SHARE = 0.75;

const entries = new WeakMap<SessionStatus, { entry: SessionStatus; chars: number }>();
const compacts = new WeakMap<SessionStatus, { entry: SessionStatus; chars: number }>();

/**
 * A session's entry in the list: its status without extras, which only the
 * session page shows (`session:<id>`). Cached per status, so an unchanged
 * session is the same object in every list (the diff skips it by identity).
 */
function listEntry(status: SessionStatus): { entry: SessionStatus; chars: number } {
  let cached = entries.get(status);
  if (cached === undefined) {
    const { extras: _extras, extrasOmitted: _omitted, ...rest } = status;
    const entry: SessionStatus = { ...rest, extras: {} };
    cached = { entry, chars: JSON.stringify(entry).length };
    entries.set(status, cached);
  }
  return cached;
}

/** The summarised entry: no detail line or completed phases, one warning at most. */
function compactEntry(status: SessionStatus): { entry: SessionStatus; chars: number } {
  let cached = compacts.get(status);
  if (cached === undefined) {
    const full = listEntry(status).entry;
    const first = full.warnings[0];
    const entry: SessionStatus = {
      ...full,
      progressDetail: null,
      phasesCompleted: [],
      warnings: first ? [{ ...first, message: cutText(first.message, 200) }] : [],
    };
    cached = { entry, chars: JSON.stringify(entry).length };
    compacts.set(status, cached);
  }
  return cached;
}

interface Item {
  status: SessionStatus;
  /** The whole entry's JSON length, with its `"key":` and comma. */
  chars: number;
}

/**
 * The `sessions` topic's entries, kept as sessions change so a change costs
 * what it changes plus building the topic's object (the running size needs
 * no walk). `data()` is every entry whole while they fit the budget.
 * Otherwise, live sessions and the most recently changed first: as many as
 * fit summarised in `SUMMARY_SHARE` of the budget are listed, the first of
 * them made whole while the budget allows, more summarised ones listed in
 * what is left, and the rest left out (counted in `omitted`).
 */
export class SessionsList {
  readonly #items = new Map<string, Item>();
  readonly #budget: number;
  #total = 0;

  constructor(budget = SESSIONS_TOPIC_BUDGET) {
    this.#budget = budget;
  }

  set(key: string, status: SessionStatus): void {
    const before = this.#items.get(key);
    if (before?.status === status) return;
    const chars = listEntry(status).chars + key.length + 4;
    this.#total += chars - (before?.chars ?? 0);
    this.#items.set(key, { status, chars });
  }

  delete(key: string): void {
    const before = this.#items.get(key);
    if (!before) return;
    this.#total -= before.chars;
    this.#items.delete(key);
  }

  data(): TopicData['sessions'] {
    const out: Record<string, SessionStatus> = {};
    if (this.#total <= this.#budget) {
      for (const [key, item] of this.#items) out[key] = listEntry(item.status).entry;
      return { sessions: out };
    }
    const budget = this.#budget;
    const ranked = [...this.#items].sort(
      ([, a], [, b]) =>
        Number(b.status.state === 'active') - Number(a.status.state === 'active') ||
        b.status.changedAt - a.status.changedAt,
    );
    const cost = (key: string, entry: { chars: number }) => entry.chars + key.length + 4;
    let used = 0;
    // Summarised entries take at most SUMMARY_SHARE of the budget at first, so
    // the newest keep their detail; what the whole entries leave lists more.
    const list = (limit: number, from: number): number => {
      let n = from;
      for (; n < ranked.length; n++) {
        const [key, item] = ranked[n] as [string, Item];
        const chars = cost(key, compactEntry(item.status));
        if (used + chars > limit) break;
        used += chars;
      }
      return n;
    };
    let listed = list(budget * SUMMARY_SHARE, 0);
    const chosen = new Map<string, SessionStatus>();
    for (const [key, item] of ranked.slice(0, listed)) {
      const compact = compactEntry(item.status);
      const full = listEntry(item.status);
      const extra = full.chars - compact.chars;
      if (used + extra <= budget) {
        used += extra;
        chosen.set(key, full.entry);
      } else chosen.set(key, compact.entry);
    }
    const more = list(budget, listed);
    for (const [key, item] of ranked.slice(listed, more))
      chosen.set(key, compactEntry(item.status).entry);
    listed = more;
    for (const key of this.#items.keys()) {
      const entry = chosen.get(key);
      if (entry) out[key] = entry;
    }
    const omitted = this.#items.size - listed;
    return omitted > 0 ? { sessions: out, omitted } : { sessions: out };
  }
}

/** `SessionsList.data()` for these sessions at once (tests, one-off lists). */
export function sessionsTopicData(
  sessions: Iterable<readonly [string, SessionStatus]>,
  budget = SESSIONS_TOPIC_BUDGET,
): TopicData['sessions'] {
  const list = new SessionsList(budget);
  for (const [key, status] of sessions) list.set(key, status);
  return list.data();
}

/**
 * The budget as the `sessions` topic's list policy (`ListPolicy` of
 * `src/hub/sessions-topic.ts`, which sets changed entries on their own and
 * builds the list whole only when the budget is crossed, or past it): a
 * session's entry and what it costs, the whole list within the budget.
 */
export const BUDGETED_LIST = {
  entry(key: string, status: SessionStatus): { entry: SessionStatus; chars: number } {
    const { entry, chars } = listEntry(status);
    return { entry, chars: chars + key.length + 4 };
  },
  whole: (sessions: Iterable<readonly [string, SessionStatus]>): TopicData['sessions'] =>
    sessionsTopicData(sessions),
  budget: SESSIONS_TOPIC_BUDGET,
};
