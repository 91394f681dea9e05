import type { DatabaseSync } from 'node:sqlite';

/**
 * One schema step. `version` is what `PRAGMA user_version` holds once the
 * step is applied; versions are consecutive from 1 and never edited once
 * released (a change is a new step).
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/**
 * The schema history, oldest first. Transitions reference their session with a
 * deferred foreign key so a batch may add a transition before the session it
 * belongs to; metric and log rows have no foreign key (agents and token
 * figures can arrive for a session that has no status yet) and are pruned by
 * session key or by their own time.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
      CREATE TABLE sessions (
        key TEXT PRIMARY KEY,
        session_id TEXT NOT NULL,
        project_dir TEXT,
        state TEXT NOT NULL,
        changed_at INTEGER NOT NULL,
        status TEXT NOT NULL,
        document TEXT NOT NULL
      );
      CREATE INDEX sessions_changed_at ON sessions (changed_at);
      CREATE INDEX sessions_state ON sessions (state, changed_at);

      CREATE TABLE transitions (
        id INTEGER PRIMARY KEY,
        session_key TEXT NOT NULL
          REFERENCES sessions (key) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
        from_phase TEXT,
        to_phase TEXT NOT NULL,
        at INTEGER NOT NULL,
        phase_number TEXT,
        status TEXT NOT NULL,
        UNIQUE (session_key, at, to_phase)
      );

      CREATE TABLE tail_offsets (
        path TEXT PRIMARY KEY,
        byte_offset INTEGER NOT NULL,
        ino INTEGER NOT NULL,
        size INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );

      CREATE TABLE token_points (
        id INTEGER PRIMARY KEY,
        session_key TEXT NOT NULL,
        at INTEGER NOT NULL,
        input INTEGER NOT NULL,
        output INTEGER NOT NULL,
        cumulative_input INTEGER NOT NULL,
        cumulative_output INTEGER NOT NULL,
        context_percent REAL,
        model TEXT,
        phase TEXT,
        UNIQUE (session_key, at, cumulative_input, cumulative_output)
      );
      CREATE INDEX token_points_at ON token_points (at);

      CREATE TABLE test_iterations (
        session_key TEXT NOT NULL,
        iteration INTEGER NOT NULL,
        total INTEGER,
        passed INTEGER,
        failed INTEGER,
        skipped INTEGER,
        duration_ms INTEGER,
        source TEXT NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (session_key, iteration)
      );

      CREATE TABLE agents (
        session_key TEXT NOT NULL,
        agent_id TEXT NOT NULL,
        started_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (session_key, agent_id)
      );

      CREATE TABLE decisions (
        session_key TEXT NOT NULL,
        id TEXT NOT NULL,
        updated_at INTEGER NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (session_key, id)
      );

      CREATE TABLE log_lines (
        session_key TEXT NOT NULL,
        n INTEGER NOT NULL,
        at INTEGER NOT NULL,
        level TEXT NOT NULL,
        text TEXT NOT NULL,
        kind TEXT,
        PRIMARY KEY (session_key, n)
      );
    `,
  },
  {
    version: 2,
    name: 'attention: alerts, their history, the notification outbox',
    sql: `
      CREATE TABLE alerts (
        id TEXT PRIMARY KEY,
        session_key TEXT NOT NULL,
        kind TEXT NOT NULL,
        raised_at INTEGER NOT NULL,
        resolved_at INTEGER,
        data TEXT NOT NULL
      );
      CREATE INDEX alerts_session ON alerts (session_key, raised_at);
      CREATE INDEX alerts_open ON alerts (resolved_at);

      CREATE TABLE alert_events (
        id INTEGER PRIMARY KEY,
        alert_id TEXT NOT NULL,
        session_key TEXT NOT NULL,
        kind TEXT NOT NULL,
        at INTEGER NOT NULL,
        detail TEXT,
        until INTEGER
      );
      CREATE INDEX alert_events_session ON alert_events (session_key, at);

      CREATE TABLE notifications (
        alert_id TEXT NOT NULL,
        channel TEXT NOT NULL,
        session_key TEXT NOT NULL,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        next_at INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        last_error TEXT,
        body TEXT NOT NULL,
        PRIMARY KEY (alert_id, channel)
      );
      CREATE INDEX notifications_due ON notifications (state, next_at);
    `,
  },
];

/** The schema version this build writes. */
export const SCHEMA_VERSION = MIGRATIONS.at(-1)?.version ?? 0;

/** The database was written by a newer Livestream; opening it could corrupt its data. */
export class SchemaTooNewError extends Error {
  constructor(
    readonly location: string,
    readonly found: number,
    readonly supported: number,
  ) {
    super(
      `history database ${location} has schema version ${found}, but this Livestream supports up to ${supported}: ` +
        'upgrade Livestream, or point it at another database file',
    );
    this.name = 'SchemaTooNewError';
  }
}

function userVersion(db: DatabaseSync): number {
  const row = db.prepare('PRAGMA user_version').get() as { user_version: number } | undefined;
  return row?.user_version ?? 0;
}

/**
 * Brings the schema up to date, one transaction per step, so a crash leaves
 * the database at a whole version. Safe to call on every open and from two
 * processes at once (each step re-checks the version under the write lock).
 */
export function migrate(
  db: DatabaseSync,
  location: string,
  migrations: readonly Migration[] = MIGRATIONS,
): { from: number; to: number } {
  const latest = migrations.at(-1)?.version ?? 0;
  const from = userVersion(db);
  if (from > latest) throw new SchemaTooNewError(location, from, latest);
  for (const step of migrations) {
    if (step.version <= from) continue;
    db.exec('BEGIN IMMEDIATE');
    try {
      const current = userVersion(db);
      if (current > latest) throw new SchemaTooNewError(location, current, latest);
      if (current < step.version) {
        db.exec(step.sql);
        // user_version lives in the database header, so it commits with the step.
        db.exec(`PRAGMA user_version = ${step.version}`);
      }
      db.exec('COMMIT');
    } catch (error) {
      if (db.isTransaction) db.exec('ROLLBACK');
      throw error;
    }
  }
  return { from, to: userVersion(db) };
}
