import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { Logger } from 'pino';
import { migrate, SchemaTooNewError } from './migrations.ts';

const SQLITE_CODES: Record<number, string> = {
  5: 'SQLITE_BUSY',
  6: 'SQLITE_LOCKED',
  7: 'SQLITE_NOMEM',
  8: 'SQLITE_READONLY',
  10: 'SQLITE_IOERR',
  11: 'SQLITE_CORRUPT',
  13: 'SQLITE_FULL',
  14: 'SQLITE_CANTOPEN',
  15: 'SQLITE_PROTOCOL',
  26: 'SQLITE_NOTADB',
};

type SqliteError = Error & { errcode?: number; code?: string };

/**
 * Failures of the disk, the file or locks (full, read-only, I/O, busy): the
 * write itself is fine and may succeed later, so it is kept, not dropped.
 */
export function isEnvironmental(error: unknown): boolean {
  const e = error as SqliteError;
  if (typeof e?.errcode === 'number') return (e.errcode & 0xff) in SQLITE_CODES;
  return e?.code === 'ERR_INVALID_STATE';
}

/** `SQLITE_FULL: database or disk is full`, or the plain message for other errors. */
export function describeError(error: unknown): string {
  const e = error as SqliteError;
  const name = typeof e?.errcode === 'number' ? SQLITE_CODES[e.errcode & 0xff] : undefined;
  const message = e instanceof Error ? e.message : String(error);
  return name ? `${name}: ${message}` : message;
}

/**
 * Opens the file (creating its folders), sets the pragmas and migrates.
 * Throws `SchemaTooNewError` for a database written by a newer version, and
 * an error naming the file when it cannot be opened or is not a database.
 */
export function openDatabase(
  path: string,
  opts: { busyTimeoutMs: number; logger: Logger },
): DatabaseSync {
  const inMemory = path === ':memory:';
  if (!inMemory) mkdirSync(dirname(path), { recursive: true });
  let db: DatabaseSync | null = null;
  try {
    db = new DatabaseSync(path);
    db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.trunc(opts.busyTimeoutMs))}`);
    // auto_vacuum only takes effect before the first table is created.
    db.exec('PRAGMA auto_vacuum = INCREMENTAL');
    const mode = db.prepare('PRAGMA journal_mode = WAL').get() as { journal_mode: string };
    if (!inMemory && mode.journal_mode !== 'wal') {
      opts.logger.warn(`history store: ${path} cannot use WAL (journal mode ${mode.journal_mode})`);
    }
    db.exec('PRAGMA synchronous = NORMAL');
    db.exec('PRAGMA foreign_keys = ON');
    migrate(db, path);
    return db;
  } catch (error) {
    db?.close();
    if (error instanceof SchemaTooNewError) throw error;
    throw new Error(`cannot open history database ${path}: ${describeError(error)}`, {
      cause: error,
    });
  }
}
