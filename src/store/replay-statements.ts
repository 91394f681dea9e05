import type { DatabaseSync, StatementSync } from 'node:sqlite';
import * as rows from './rows.ts';
import type { HistoryBounds, StoredBucket, StoredHistoryAt } from './types.ts';

type Row = Record<string, unknown>;

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

const int = (n: number): number => (Number.isFinite(n) ? Math.floor(n) : 0);
const numOrNull = (v: unknown): number | null => (typeof v === 'number' ? v : null);

/** Rows that do not parse are left out (the store reports corrupt rows on its full reads). */
function parsed<T>(list: Row[], parse: (row: Row) => T | null): T[] {
  const out: T[] = [];
  for (const row of list) {
    const value = parse(row);
    if (value !== null) out.push(value);
  }
  return out;
}

function one<T>(row: Row | undefined, parse: (row: Row) => T | null): T | null {
  return row ? parse(row) : null;
}

export function historyAt(
  s: ReplayStatements,
  key: string,
  at: number,
  limits: { transitions: number; logLines: number },
): StoredHistoryAt {
  const t = int(at);
  const count = s.countUpTo.get(key, t)?.n;
  return {
    transitions: parsed(
      s.transitionsUpTo.all(key, t, Math.max(0, int(limits.transitions))),
      rows.transitionFromRow,
    ),
    count: typeof count === 'number' ? count : 0,
    firstAfter: one(s.firstAfter.get(key, t), rows.transitionFromRow),
    tokenAt: one(s.tokenAt.get(key, t), rows.tokenPointFromRow),
    tokenLast: one(s.tokenLast.get(key), rows.tokenPointFromRow),
    tests: parsed(s.testsUpTo.all(key, t), rows.testIterationFromRow),
    logs: parsed(s.logsUpTo.all(key, t, Math.max(0, int(limits.logLines))), rows.logLineFromRow),
  };
}

export function historyBounds(s: ReplayStatements, key: string): HistoryBounds {
  const row = s.bounds.get(key);
  return {
    firstTransitionAt: numOrNull(row?.first_transition),
    lastTokenAt: numOrNull(row?.last_token),
    lastLogAt: numOrNull(row?.last_log),
  };
}

export function transitionBuckets(
  s: ReplayStatements,
  key: string,
  span: { start: number; end: number },
  slices: number,
): StoredBucket[] {
  const n = Math.max(1, int(slices));
  const out: StoredBucket[] = [];
  for (const row of s.buckets.all(int(span.start), int(span.end), n, key)) {
    const last = rows.transitionFromRow(row);
    if (last && typeof row.bucket === 'number' && typeof row.bucket_size === 'number') {
      out.push({ bucket: row.bucket, transitions: row.bucket_size, last });
    }
  }
  return out;
}
