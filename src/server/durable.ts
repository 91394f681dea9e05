import { setImmediate as nextTurn } from 'node:timers/promises';
import type { HealthQuery } from './queries.ts';

/** What a write route adds to its answer: whether the write is in the stored history. */
export type Durability =
  | { saved: true }
  | { saved: false; history: 'not_saving' | 'held'; message: string };

/**
 * Waits until the writes made so far are committed, then says whether they
 * were saved. The stores commit each event-loop turn's writes together, on
 * the turn's `setImmediate` (SQLite), or in a transaction that `flush()`
 * resolves after (PostgreSQL): a route that answers only after this cannot
 * acknowledge a write a `kill -9` right after the answer would lose. When the
 * store is failing (disk full, read-only) the writes are parked in memory and
 * replayed on recovery; the answer then says so, instead of a plain success
 * that hides that a restart loses them.
 */
export async function committed(
  store: HealthQuery,
  /** What else an acknowledgement waits for (a shared bus's log; see `ServerDeps.committed`). */
  beyond?: () => Promise<void>,
): Promise<Durability> {
  await nextTurn();
  await Promise.all([store.flush?.(), beyond?.()]);
  const health = store.health();
  if (health.writable) return { saved: true };
  return {
    saved: false,
    history: 'not_saving',
    message: `Received and shown live, but history is not being saved (${health.lastError ?? 'the store is failing'}): it is kept in memory and written when the store recovers; a restart before then loses it. GET /api/health says when saving resumes.`,
  };
}

/** The answer for an input held in memory until the session it names appears. */
export function heldFor(sessionId: string): Durability {
  return {
    saved: false,
    history: 'held',
    message: `No session '${sessionId}' yet: this is held in memory (bounded) and saved with the session once it appears; a restart before then loses it.`,
  };
}
