import { boundsFromRow, bucketsFromRows, historyAtFromRows, whole } from './replay-rows.ts';
import type { HistoryBounds, StoredBucket, StoredHistoryAt } from './types.ts';

/*
 * The replay reads of the PostgreSQL store (`ReplayStore`), the same queries
 * as the SQLite store's (replay-statements.ts): ranges of the (session_key,
 * time) unique indexes and primary keys, run in parallel on the pool.
 */

type Row = Record<string, unknown>;
/** The store's read: flushes queued writes first, so a frame sees every write made before it. */
type Read = (text: string, values: unknown[]) => Promise<Row[]>;

export async function pgHistoryAt(
  read: Read,
  key: string,
  at: number,
  limits: { transitions: number; logLines: number },
): Promise<StoredHistoryAt> {
  const t = whole(at);
  const [transitions, count, firstAfter, tokenAt, tokenLast, tests, logs] = await Promise.all([
    read(
      `SELECT * FROM (SELECT * FROM transitions WHERE session_key = $1 AND at <= $2
         ORDER BY at DESC, id DESC LIMIT $3) t ORDER BY at, id`,
      [key, t, Math.max(0, whole(limits.transitions))],
    ),
    read('SELECT count(*) AS n FROM transitions WHERE session_key = $1 AND at <= $2', [key, t]),
    read('SELECT * FROM transitions WHERE session_key = $1 AND at > $2 ORDER BY at, id LIMIT 1', [
      key,
      t,
    ]),
    read(
      `SELECT * FROM token_points WHERE session_key = $1 AND at <= $2
       ORDER BY at DESC, id DESC LIMIT 1`,
      [key, t],
    ),
    read('SELECT * FROM token_points WHERE session_key = $1 ORDER BY at DESC, id DESC LIMIT 1', [
      key,
    ]),
    read(
      `SELECT * FROM test_iterations WHERE session_key = $1 AND updated_at <= $2
       ORDER BY updated_at, iteration`,
      [key, t],
    ),
    read(
      `SELECT * FROM (SELECT * FROM log_lines WHERE session_key = $1 AND at <= $2
         ORDER BY n DESC LIMIT $3) t ORDER BY n`,
      [key, t, Math.max(0, whole(limits.logLines))],
    ),
  ]);
  return historyAtFromRows({ transitions, count, firstAfter, tokenAt, tokenLast, tests, logs });
}

export async function pgHistoryBounds(read: Read, key: string): Promise<HistoryBounds> {
  const [row] = await read(
    `SELECT (SELECT min(at) FROM transitions WHERE session_key = $1) AS first_transition,
            (SELECT max(at) FROM token_points WHERE session_key = $1) AS last_token,
            (SELECT max(at) FROM log_lines WHERE session_key = $1) AS last_log`,
    [key],
  );
  return boundsFromRow(row);
}

export async function pgTransitionBuckets(
  read: Read,
  key: string,
  span: { start: number; end: number },
  slices: number,
): Promise<StoredBucket[]> {
  // As the SQLite store: counted on the index, then the last row of each slice by a seek.
  const list = await read(
    `SELECT g.bucket, g.bucket_size, t.* FROM (
       SELECT bucket, count(*) AS bucket_size, max(at) AS last_at FROM (
         SELECT GREATEST(0, LEAST($3::bigint - 1,
                  (at - $1::bigint) * $3::bigint / GREATEST(1, $2::bigint - $1::bigint))) AS bucket, at
         FROM transitions WHERE session_key = $4) s
       GROUP BY bucket) g
     CROSS JOIN LATERAL (SELECT * FROM transitions
       WHERE session_key = $4 AND at = g.last_at ORDER BY id DESC LIMIT 1) t
     ORDER BY g.bucket`,
    [whole(span.start), whole(span.end), Math.max(1, whole(slices)), key],
  );
  return bucketsFromRows(list);
}
