import * as rows from './rows.ts';
import type { HistoryBounds, StoredBucket, StoredHistoryAt } from './types.ts';

/*
 * Row mapping of the replay reads (`ReplayStore`), shared by the SQLite
 * (replay-statements.ts) and PostgreSQL (postgres-replay.ts) stores, which run
 * the same queries. Rows that do not parse are left out: the stores report
 * corrupt rows on their full reads.
 */

type Row = Record<string, unknown>;

/** A moment or a limit as the queries take it: a whole number (0 for garbage). */
export const whole = (n: number): number => (Number.isFinite(n) ? Math.floor(n) : 0);

const numOrNull = (v: unknown): number | null => (typeof v === 'number' ? v : null);

function parsed<T>(list: readonly Row[], parse: (row: Row) => T | null): T[] {
  const out: T[] = [];
  for (const row of list) {
    const value = parse(row);
    if (value !== null) out.push(value);
  }
  return out;
}

const first = <T>(list: readonly Row[], parse: (row: Row) => T | null): T | null =>
  list[0] ? parse(list[0]) : null;

/** The rows each query of `historyAt` returned. */
export interface HistoryAtRows {
  transitions: readonly Row[];
  /** One row with `n`. */
  count: readonly Row[];
  firstAfter: readonly Row[];
  tokenAt: readonly Row[];
  tokenLast: readonly Row[];
  tests: readonly Row[];
  logs: readonly Row[];
}

export function historyAtFromRows(r: HistoryAtRows): StoredHistoryAt {
  return {
    transitions: parsed(r.transitions, rows.transitionFromRow),
    count: Number(r.count[0]?.n ?? 0),
    firstAfter: first(r.firstAfter, rows.transitionFromRow),
    tokenAt: first(r.tokenAt, rows.tokenPointFromRow),
    tokenLast: first(r.tokenLast, rows.tokenPointFromRow),
    tests: parsed(r.tests, rows.testIterationFromRow),
    logs: parsed(r.logs, rows.logLineFromRow),
  };
}

/** From a row of `first_transition`, `last_token`, `last_log`. */
export function boundsFromRow(row: Row | undefined): HistoryBounds {
  return {
    firstTransitionAt: numOrNull(row?.first_transition),
    lastTokenAt: numOrNull(row?.last_token),
    lastLogAt: numOrNull(row?.last_log),
  };
}

/** From rows of `bucket`, `bucket_size` and the slice's last transition. */
export function bucketsFromRows(list: readonly Row[]): StoredBucket[] {
  const out: StoredBucket[] = [];
  for (const row of list) {
    const last = rows.transitionFromRow(row);
    if (last && typeof row.bucket === 'number' && typeof row.bucket_size === 'number') {
      out.push({ bucket: row.bucket, transitions: row.bucket_size, last });
    }
  }
  return out;
}
