import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { boundsFromRow, bucketsFromRows, historyAtFromRows, whole } from './replay-rows.ts';
import type { HistoryBounds, StoredBucket, StoredHistoryAt } from './types.ts';

/**
 * The replay reads of the SQLite store (`ReplayStore`). Every one is a range
 * of a (session_key, time) index: transitions' UNIQUE (session_key, at,
 * to_phase), token points' UNIQUE (session_key, at, …), and the primary keys
 * of test iterations and log lines (at most 1,000 lines per session).
 */
export function prepareReplayStatements(db: DatabaseSync) {
  const p = (sql: string): StatementSync => db.prepare(sql);
  return {
    transitionsUpTo: p(`
      SELECT * FROM (SELECT * FROM transitions WHERE session_key = ? AND at <= ?
        ORDER BY at DESC, id DESC LIMIT ?) ORDER BY at, id`),
    countUpTo: p('SELECT COUNT(*) AS n FROM transitions WHERE session_key = ? AND at <= ?'),
    firstAfter: p(
      'SELECT * FROM transitions WHERE session_key = ? AND at > ? ORDER BY at, id LIMIT 1',
    ),
    tokenAt: p(`
      SELECT * FROM token_points WHERE session_key = ? AND at <= ?
      ORDER BY at DESC, id DESC LIMIT 1`),
    tokenLast: p(
      'SELECT * FROM token_points WHERE session_key = ? ORDER BY at DESC, id DESC LIMIT 1',
    ),
    testsUpTo: p(`
      SELECT * FROM test_iterations WHERE session_key = ? AND updated_at <= ?
      ORDER BY updated_at, iteration`),
    logsUpTo: p(`
      SELECT * FROM (SELECT * FROM log_lines WHERE session_key = ? AND at <= ?
        ORDER BY n DESC LIMIT ?) ORDER BY n`),
    bounds: p(`
      SELECT (SELECT MIN(at) FROM transitions WHERE session_key = ?1) AS first_transition,
             (SELECT MAX(at) FROM token_points WHERE session_key = ?1) AS last_token,
             (SELECT MAX(at) FROM log_lines WHERE session_key = ?1) AS last_log`),
    /**
     * Counted on the covering index, then one index seek per slice for its last row (the
     * greatest id at its greatest time). Integer arithmetic (node:sqlite binds numbers as
     * REAL): slice = floor((at − start) × n / max(1, stop − start)), clamped to 0 … n − 1.
     */
    buckets: p(`
      SELECT g.bucket, g.bucket_size, t.* FROM (
        SELECT bucket, COUNT(*) AS bucket_size, MAX(at) AS last_at FROM (
          SELECT MAX(0, MIN(n - 1, (at - start) * n / MAX(1, stop - start))) AS bucket, at
          FROM transitions, (SELECT CAST(?1 AS INTEGER) AS start, CAST(?2 AS INTEGER) AS stop,
                                    CAST(?3 AS INTEGER) AS n)
          WHERE session_key = ?4)
        GROUP BY bucket) g
      JOIN transitions t ON t.id = (SELECT id FROM transitions
        WHERE session_key = ?4 AND at = g.last_at ORDER BY id DESC LIMIT 1)
      ORDER BY g.bucket`),
  };
}

export type ReplayStatements = ReturnType<typeof prepareReplayStatements>;

export function historyAt(
  s: ReplayStatements,
  key: string,
  at: number,
  limits: { transitions: number; logLines: number },
): StoredHistoryAt {
  const t = whole(at);
  return historyAtFromRows({
    transitions: s.transitionsUpTo.all(key, t, Math.max(0, whole(limits.transitions))),
    count: s.countUpTo.all(key, t),
    firstAfter: s.firstAfter.all(key, t),
    tokenAt: s.tokenAt.all(key, t),
    tokenLast: s.tokenLast.all(key),
    tests: s.testsUpTo.all(key, t),
    logs: s.logsUpTo.all(key, t, Math.max(0, whole(limits.logLines))),
  });
}

export function historyBounds(s: ReplayStatements, key: string): HistoryBounds {
  return boundsFromRow(s.bounds.get(key));
}

export function transitionBuckets(
  s: ReplayStatements,
  key: string,
  span: { start: number; end: number },
  slices: number,
): StoredBucket[] {
  const n = Math.max(1, whole(slices));
  return bucketsFromRows(s.buckets.all(whole(span.start), whole(span.end), n, key));
}
