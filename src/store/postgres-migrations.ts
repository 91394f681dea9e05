import type { Pool } from 'pg';
import type { Migration } from './migrations.ts';
import { SchemaTooNewError } from './migrations.ts';

/**
 * The PostgreSQL schema history, oldest first: the same tables as SQLite's
 * (JSON kept as text, so both stores share one row mapping), epoch ms as
 * BIGINT. Versions are consecutive from 1 and never edited once released.
 */
export const PG_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
      CREATE TABLE sessions (
        key TEXT PRIMARY KEY,
        session_id TEXT NOT NULL,
        project_dir TEXT,
        state TEXT NOT NULL,
        changed_at BIGINT NOT NULL,
        status TEXT NOT NULL,
        document TEXT NOT NULL
      );
      CREATE INDEX sessions_changed_at ON sessions (changed_at);
      CREATE INDEX sessions_state ON sessions (state, changed_at);

      CREATE TABLE transitions (
        id BIGSERIAL PRIMARY KEY,
        session_key TEXT NOT NULL
          REFERENCES sessions (key) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
        from_phase TEXT,
        to_phase TEXT NOT NULL,
        at BIGINT NOT NULL,
        phase_number TEXT,
        status TEXT NOT NULL,
        UNIQUE (session_key, at, to_phase)
      );

      CREATE TABLE tail_offsets (
        path TEXT PRIMARY KEY,
        byte_offset BIGINT NOT NULL,
        ino BIGINT NOT NULL,
        size BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
      );

      CREATE TABLE token_points (
        id BIGSERIAL PRIMARY KEY,
        session_key TEXT NOT NULL,
        at BIGINT NOT NULL,
        input BIGINT NOT NULL,
        output BIGINT NOT NULL,
        cumulative_input BIGINT NOT NULL,
        cumulative_output BIGINT NOT NULL,
        context_percent DOUBLE PRECISION,
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
        duration_ms BIGINT,
        source TEXT NOT NULL,
        updated_at BIGINT NOT NULL,
        PRIMARY KEY (session_key, iteration)
      );

      CREATE TABLE agents (
        session_key TEXT NOT NULL,
        agent_id TEXT NOT NULL,
        started_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (session_key, agent_id)
      );

      CREATE TABLE decisions (
        session_key TEXT NOT NULL,
        id TEXT NOT NULL,
        updated_at BIGINT NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (session_key, id)
      );

      CREATE TABLE log_lines (
        session_key TEXT NOT NULL,
        n BIGINT NOT NULL,
        at BIGINT NOT NULL,
        level TEXT NOT NULL,
        text TEXT NOT NULL,
        kind TEXT,
        PRIMARY KEY (session_key, n)
      );

      CREATE TABLE livestream_meta (
        key TEXT PRIMARY KEY,
        value BIGINT NOT NULL
      );
      INSERT INTO livestream_meta (key, value) VALUES ('transition_deletions', 0);
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
        raised_at BIGINT NOT NULL,
        resolved_at BIGINT,
        data TEXT NOT NULL
      );
      CREATE INDEX alerts_session ON alerts (session_key, raised_at);
      CREATE INDEX alerts_open ON alerts (resolved_at);

      CREATE TABLE alert_events (
        id BIGSERIAL PRIMARY KEY,
        alert_id TEXT NOT NULL,
        session_key TEXT NOT NULL,
        kind TEXT NOT NULL,
        at BIGINT NOT NULL,
        detail TEXT,
        until BIGINT
      );
      CREATE INDEX alert_events_session ON alert_events (session_key, at);

      CREATE TABLE notifications (
        alert_id TEXT NOT NULL,
        channel TEXT NOT NULL,
        session_key TEXT NOT NULL,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        next_at BIGINT NOT NULL,
        created_at BIGINT NOT NULL,
        last_error TEXT,
        body TEXT NOT NULL,
        PRIMARY KEY (alert_id, channel)
      );
      CREATE INDEX notifications_due ON notifications (state, next_at);
    `,
  },
  {
    version: 3,
    name: 'agents: checkpoint (a row per session) and journal of forwarded inputs',
    sql: `
      CREATE TABLE agent_sessions (
        id TEXT PRIMARY KEY,
        data TEXT NOT NULL
      );

      CREATE TABLE agent_checkpoint (
        id SMALLINT PRIMARY KEY CHECK (id = 1),
        owner TEXT NOT NULL,
        snapshot_version INTEGER,
        offsets TEXT NOT NULL DEFAULT '[]',
        journal BIGINT NOT NULL DEFAULT -1,
        saved_at BIGINT
      );

      CREATE TABLE agent_journal (
        seq BIGSERIAL PRIMARY KEY,
        gen BIGINT NOT NULL,
        entries TEXT NOT NULL
      );
      CREATE INDEX agent_journal_gen ON agent_journal (gen);
    `,
  },
];

/** Any number: the migrations of all replicas queue on this advisory lock. */
const MIGRATION_LOCK = 7_365_301;

/**
 * Brings the schema up to date, one transaction per step, under an advisory
 * lock so that replicas starting together migrate once. The version lives in
 * `livestream_schema`.
 */
export async function migratePostgres(
  pool: Pool,
  location: string,
  migrations: readonly Migration[] = PG_MIGRATIONS,
): Promise<{ from: number; to: number }> {
  const latest = migrations.at(-1)?.version ?? 0;
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await client.query('CREATE TABLE IF NOT EXISTS livestream_schema (version INTEGER NOT NULL)');
    const read = async () =>
      Number(
        (await client.query('SELECT max(version) AS v FROM livestream_schema')).rows[0]?.v ?? 0,
      );
    const from = await read();
    if (from > latest) throw new SchemaTooNewError(location, from, latest);
    for (const step of migrations) {
      if (step.version <= from) continue;
      await client.query('BEGIN');
      try {
        await client.query(step.sql);
        await client.query('INSERT INTO livestream_schema (version) VALUES ($1)', [step.version]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      }
    }
    return { from, to: await read() };
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    client.release();
  }
}
