import type { DatabaseSync, StatementSync } from 'node:sqlite';

/** Newest log lines kept per session. */
export const LOG_LINES_KEPT = 1000;

/** Tables whose rows belong to a session but have no foreign key (pruned by key or age). */
const SESSION_TABLES = [
  ['token_points', 'at'],
  ['test_iterations', 'updated_at'],
  ['agents', 'updated_at'],
  ['decisions', 'updated_at'],
  ['log_lines', 'at'],
  ['alerts', 'raised_at'],
  ['alert_events', 'at'],
  ['notifications', 'created_at'],
] as const;

/** Every statement the store runs, prepared once per connection. */
export function prepareStatements(db: DatabaseSync) {
  const p = (sql: string): StatementSync => db.prepare(sql);
  return {
    begin: p('BEGIN IMMEDIATE'),
    commit: p('COMMIT'),

    upsertSession: p(`
      INSERT INTO sessions (key, session_id, project_dir, state, changed_at, status, document)
      VALUES (?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (key) DO UPDATE SET session_id = excluded.session_id,
        project_dir = excluded.project_dir, state = excluded.state,
        changed_at = excluded.changed_at, status = excluded.status, document = excluded.document`),
    listSessions: p('SELECT key, status FROM sessions ORDER BY changed_at DESC, key'),
    listSessionsByState: p(
      'SELECT key, status FROM sessions WHERE state = ? ORDER BY changed_at DESC, key',
    ),
    getSession: p('SELECT key, status, document FROM sessions WHERE key = ?'),

    insertTransition: p(`
      INSERT OR IGNORE INTO transitions (session_key, from_phase, to_phase, at, phase_number, status)
      VALUES (?, ?, ?, ?, ?, ?)`),
    transitions: p('SELECT * FROM transitions WHERE session_key = ? ORDER BY at, id'),
    /** A range of the rowid: costs the rows inserted since `id`, not the table's size. */
    transitionsSince: p('SELECT * FROM transitions WHERE id > ? ORDER BY id'),
    sessionTransitionsSince: p(
      'SELECT * FROM transitions WHERE session_key = ? AND id > ? ORDER BY id',
    ),
    lastTransitionId: p('SELECT MAX(id) AS id FROM transitions'),

    getOffset: p('SELECT * FROM tail_offsets WHERE path = ?'),
    upsertOffset: p(`
      INSERT INTO tail_offsets (path, byte_offset, ino, size, updated_at) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (path) DO UPDATE SET byte_offset = excluded.byte_offset, ino = excluded.ino,
        size = excluded.size, updated_at = excluded.updated_at`),

    insertTokenPoint: p(`
      INSERT OR IGNORE INTO token_points (session_key, at, input, output, cumulative_input,
        cumulative_output, context_percent, model, phase)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    tokenPoints: p('SELECT * FROM token_points WHERE session_key = ? ORDER BY at, id'),

    upsertTestIteration: p(`
      INSERT INTO test_iterations (session_key, iteration, total, passed, failed, skipped,
        duration_ms, source, updated_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (session_key, iteration) DO UPDATE SET total = excluded.total,
        passed = excluded.passed, failed = excluded.failed, skipped = excluded.skipped,
        duration_ms = excluded.duration_ms, source = excluded.source,
        updated_at = excluded.updated_at`),
    testIterations: p('SELECT * FROM test_iterations WHERE session_key = ? ORDER BY iteration'),

    upsertAgent: p(`
      INSERT INTO agents (session_key, agent_id, started_at, updated_at, data) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (session_key, agent_id) DO UPDATE SET started_at = excluded.started_at,
        updated_at = excluded.updated_at, data = excluded.data`),
    agents: p('SELECT * FROM agents WHERE session_key = ? ORDER BY started_at, agent_id'),

    upsertDecision: p(`
      INSERT INTO decisions (session_key, id, updated_at, data) VALUES (?, ?, ?, ?)
      ON CONFLICT (session_key, id) DO UPDATE SET updated_at = excluded.updated_at,
        data = excluded.data`),
    decisions: p('SELECT * FROM decisions WHERE session_key = ? ORDER BY updated_at, id'),

    insertLogLine: p(`
      INSERT OR IGNORE INTO log_lines (session_key, n, at, level, text, kind)
      VALUES (?, ?, ?, ?, ?, ?)`),
    trimLogLines: p(`
      DELETE FROM log_lines WHERE session_key = ?1 AND n < (
        SELECT n FROM log_lines WHERE session_key = ?1 ORDER BY n DESC LIMIT 1 OFFSET ${LOG_LINES_KEPT - 1})`),
    logHeads: p('SELECT session_key, MAX(n) AS n FROM log_lines GROUP BY session_key'),
    logLines: p(`
      SELECT * FROM (SELECT * FROM log_lines WHERE session_key = ? ORDER BY n DESC LIMIT ?)
      ORDER BY n`),

    expiredSessions: p('SELECT key FROM sessions WHERE changed_at < ?'),
    deleteSession: p('DELETE FROM sessions WHERE key = ?'),
    deleteByKey: SESSION_TABLES.map(([table]) => p(`DELETE FROM ${table} WHERE session_key = ?`)),
    /** Rows of sessions that never had a status, once they are older than the cut-off. */
    deleteOrphans: SESSION_TABLES.map(([table, time]) =>
      p(`DELETE FROM ${table} WHERE ${time} < ? AND session_key NOT IN (SELECT key FROM sessions)`),
    ),
  };
}

export type Statements = ReturnType<typeof prepareStatements>;
