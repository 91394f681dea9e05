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

/**
 * The `sessions` topic's data for these sessions (by key), within `budget`
 * characters: every entry whole while they fit. Otherwise, live sessions and
 * the most recently changed first, as many as fit summarised are listed (the
 * rest left out, counted in `omitted`), and the first of them whole while the
 * budget allows.
 */
export function sessionsTopicData(
  sessions: Iterable<readonly [string, SessionStatus]>,
  budget = SESSIONS_TOPIC_BUDGET,
): TopicData['sessions'] {
  const all = [...sessions];
  let total = 0;
  // Each entry's JSON plus its `"key":` and comma.
  for (const [key, status] of all) total += listEntry(status).chars + key.length + 4;
  const out: Record<string, SessionStatus> = {};
  if (total <= budget) {
    for (const [key, status] of all) out[key] = listEntry(status).entry;
    return { sessions: out };
  }
  const ranked = [...all].sort(
    ([, a], [, b]) =>
      Number(b.state === 'active') - Number(a.state === 'active') || b.changedAt - a.changedAt,
  );
  // As many sessions as fit summarised, then the first of them whole while the rest allows.
  const cost = (key: string, entry: { chars: number }) => entry.chars + key.length + 4;
  let used = 0;
  let listed = 0;
  for (const [key, status] of ranked) {
    const chars = cost(key, compactEntry(status));
    if (used + chars > budget) break;
    used += chars;
    listed++;
  }
  const chosen = new Map<string, SessionStatus>();
  for (const [key, status] of ranked.slice(0, listed)) {
    const compact = compactEntry(status);
    const full = listEntry(status);
    const extra = full.chars - compact.chars;
    if (used + extra <= budget) {
      used += extra;
      chosen.set(key, full.entry);
    } else chosen.set(key, compact.entry);
  }
  const omitted = all.length - listed;
  for (const [key] of all) {
    const entry = chosen.get(key);
    if (entry) out[key] = entry;
  }
  return omitted > 0 ? { sessions: out, omitted } : { sessions: out };
}
