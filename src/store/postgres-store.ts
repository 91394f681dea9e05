import pg from 'pg';
import { type Logger, pino } from 'pino';
import type { AgentNode, Decision, TestIteration, TokenPoint } from '../shared/metrics.ts';
import type { LogLine, PhaseTransition, SessionState, SessionStatus } from '../shared/model.ts';
import { PostgresAgentState } from './postgres-agent-state.ts';
import { PostgresAlertStore } from './postgres-alert-store.ts';
import { migratePostgres } from './postgres-migrations.ts';
import { type PgWrite, PgWriteQueue } from './postgres-queue.ts';
import { pgHistoryAt, pgHistoryBounds, pgTransitionBuckets } from './postgres-replay.ts';
import { isPgEnvironmental, poolTransactor } from './postgres-transaction.ts';
import { redact } from './redact.ts';
import * as rows from './rows.ts';
import { LOG_LINES_KEPT } from './statements.ts';
import type {
  HistoryBounds,
  LogStore,
  MetricsStore,
  SessionStore,
  StoredBucket,
  StoredHistoryAt,
  StoredSession,
  StoreHealth,
  StoreHealthEvents,
  TailOffset,
  TransitionsSince,
} from './types.ts';

export interface PostgresStoreOptions {
  logger?: Logger;
  now?: () => number;
  /** Most writes kept in memory while PostgreSQL is away (default 10,000). */
  pendingCap?: number;
  retryInitialMs?: number;
  retryMaxMs?: number;
  /** Connections in the pool (default 4). */
  poolSize?: number;
}

/** Tables whose rows belong to a session but have no foreign key (pruned by key or age). */
const SESSION_TABLES = [
  ['token_points', 'at'],
  ['test_iterations', 'updated_at'],
  ['agents', 'updated_at'],
  ['decisions', 'updated_at'],
  ['log_lines', 'at'],
] as const;

/** BIGINT (oid 20) as a JS number: epoch ms and counters fit in 2^53. */
const pgTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === 20
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

const sql = (text: string, ...values: unknown[]) => ({ text, values });

/**
 * Session, metrics and log history in PostgreSQL, for teams: several
 * replicas share one database. Same interfaces and behaviour as the SQLite
 * store: writes of one turn share a transaction, writes refused while the
 * server is away wait (bounded) and are replayed in order, no write method
 * rejects, reads see every write made before them.
 */
export class PostgresStore implements SessionStore, MetricsStore, LogStore, StoreHealthEvents {
  readonly location: string;
  readonly #pool: pg.Pool;
  readonly #writes: PgWriteQueue;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #corruptSeen = new Set<string>();
  #agentState: PostgresAgentState | null = null;
  readonly #retry: { retryInitialMs?: number; retryMaxMs?: number };
  #closed = false;

  private constructor(pool: pg.Pool, location: string, logger: Logger, opts: PostgresStoreOptions) {
    this.#pool = pool;
    this.location = location;
    this.#logger = logger;
    this.#now = opts.now ?? Date.now;
    this.#retry = {
      ...(opts.retryInitialMs ? { retryInitialMs: opts.retryInitialMs } : {}),
      ...(opts.retryMaxMs ? { retryMaxMs: opts.retryMaxMs } : {}),
    };
    this.#writes = new PgWriteQueue({
      transactor: poolTransactor(pool),
      isEnvironmental: isPgEnvironmental,
      logger,
      now: this.#now,
      ...(opts.pendingCap ? { pendingCap: opts.pendingCap } : {}),
      ...this.#retry,
    });
  }

  /** Connects and migrates; rejects naming the server when it cannot. */
  static async open(url: string, opts: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const logger = opts.logger ?? pino({ name: 'store' }, pino.destination(2));
    const location = redact(url);
    const pool = new pg.Pool({
      connectionString: url,
      max: opts.poolSize ?? 4,
      types: pgTypes,
      connectionTimeoutMillis: 5_000,
    });
    // An idle connection dropped by a restarting server must not crash the process.
    pool.on('error', (error) =>
      logger.warn({ err: error.message }, 'history store: PostgreSQL connection lost'),
    );
    // A connection lost while checked out (mid-transaction) reports on the client, which the
    // pool no longer listens to: unheard, that 'error' event would end the process.
    pool.on('connect', (client) => {
      client.on('error', (error) =>
        logger.warn({ err: error.message }, 'history store: PostgreSQL connection lost'),
      );
    });
    try {
      await migratePostgres(pool, location);
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw new Error(`cannot open PostgreSQL ${location}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    return new PostgresStore(pool, location, logger, opts);
  }

  health(): StoreHealth {
    return this.#writes.health();
  }

  /** Alerts and notifications in the same database (`AlertStore`). */
  alertStore(): PostgresAlertStore {
    return new PostgresAlertStore(this.#pool, this.#logger);
  }

  /** The agents' checkpoint and journal in the same database (one per store: it keeps the journal's generation). */
  agentState(): PostgresAgentState {
    this.#agentState ??= new PostgresAgentState(this.#pool, this.location, this.#logger, {
      isEnvironmental: isPgEnvironmental,
      ...this.#retry,
    });
    return this.#agentState;
  }

  onHealthChange(listener: (health: StoreHealth) => void): () => void {
    return this.#writes.onHealthChange(listener);
  }

  /** Commits everything queued now; resolves when committed or parked. */
  flush(): Promise<void> {
    return this.#writes.flush();
  }

  retryPending(): Promise<boolean> {
    return this.#writes.retry();
  }

  saveSession(status: SessionStatus, document: unknown): Promise<void> {
    const s = this.#json(status, `session ${status?.id}`);
    const d = this.#json(document ?? null, `document of session ${status?.id}`);
    if (s === null || d === null) return Promise.resolve();
    return this.#enqueue(`session:${status.id}`, `session ${status.id}`, [
      sql(
        `INSERT INTO sessions (key, session_id, project_dir, state, changed_at, status, document)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (key) DO UPDATE SET session_id = excluded.session_id,
           project_dir = excluded.project_dir, state = excluded.state,
           changed_at = excluded.changed_at, status = excluded.status, document = excluded.document`,
        status.id,
        status.sessionId,
        status.projectDir,
        status.state,
        status.changedAt,
        s,
        d,
      ),
    ]);
  }

  addTransition(t: PhaseTransition): Promise<void> {
    return this.#enqueue(null, `transition ${t.sessionKey} → ${t.to}`, [
      sql(
        `INSERT INTO transitions (session_key, from_phase, to_phase, at, phase_number, status)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
        t.sessionKey,
        t.from,
        t.to,
        t.at,
        t.phaseNumber,
        t.status,
      ),
    ]);
  }

  async listSessions(filter?: { state?: SessionState }): Promise<SessionStatus[]> {
    const list = filter?.state
      ? await this.#read(
          'SELECT key, status FROM sessions WHERE state = $1 ORDER BY changed_at DESC, key',
          [filter.state],
        )
      : await this.#read('SELECT key, status FROM sessions ORDER BY changed_at DESC, key');
    return this.#parse(list, 'sessions', (r) => String(r.key), rows.sessionFromRow);
  }

  async getSession(key: string): Promise<StoredSession | null> {
    const [row] = await this.#read('SELECT key, status, document FROM sessions WHERE key = $1', [
      key,
    ]);
    if (!row) return null;
    const status = rows.sessionFromRow(row);
    const document = rows.documentFromRow(row);
    if (!status || document === undefined) {
      this.#reportCorrupt('sessions', key);
      return null;
    }
    return { status, document };
  }

  async transitions(key: string): Promise<PhaseTransition[]> {
    const list = await this.#read(
      'SELECT * FROM transitions WHERE session_key = $1 ORDER BY at, id',
      [key],
    );
    return this.#parse(list, 'transitions', (r) => String(r.id), rows.transitionFromRow);
  }

  async transitionsSince(afterId: number, key?: string): Promise<TransitionsSince> {
    const after = Number.isFinite(afterId) ? Math.max(0, Math.trunc(afterId)) : 0;
    const list =
      key === undefined
        ? await this.#read('SELECT * FROM transitions WHERE id > $1 ORDER BY id', [after])
        : await this.#read(
            'SELECT * FROM transitions WHERE session_key = $1 AND id > $2 ORDER BY id',
            [key, after],
          );
    const [meta] = await this.#read(
      `SELECT (SELECT coalesce(max(id), 0) FROM transitions) AS last,
              (SELECT value FROM livestream_meta WHERE key = 'transition_deletions') AS deletions`,
    );
    return {
      transitions: this.#parse(
        list,
        'transitions',
        (r) => String(r.id),
        rows.storedTransitionFromRow,
      ),
      lastId: Number(meta?.last ?? 0),
      deletions: Number(meta?.deletions ?? 0),
    };
  }

  async prune(before: number): Promise<{ sessions: number }> {
    await this.#writes.flush();
    const client = await this.#pool.connect().catch((error: unknown) => {
      this.#logger.warn({ err: (error as Error).message }, 'history store: prune failed');
      return null;
    });
    if (!client) return { sessions: 0 };
    try {
      await client.query('BEGIN');
      const expired = await client.query(
        'DELETE FROM sessions WHERE changed_at < $1 RETURNING key',
        [before],
      );
      const keys = expired.rows.map((r) => r.key as string);
      for (const [table, time] of SESSION_TABLES) {
        if (keys.length > 0)
          await client.query(`DELETE FROM ${table} WHERE session_key = ANY($1)`, [keys]);
        await client.query(
          `DELETE FROM ${table} WHERE ${time} < $1 AND session_key NOT IN (SELECT key FROM sessions)`,
          [before],
        );
      }
      if (keys.length > 0) {
        await client.query(
          `UPDATE livestream_meta SET value = value + 1 WHERE key = 'transition_deletions'`,
        );
      }
      await client.query('COMMIT');
      return { sessions: keys.length };
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      this.#logger.warn({ err: (error as Error).message }, 'history store: prune failed');
      return { sessions: 0 };
    } finally {
      client.release();
    }
  }

  async getOffset(path: string): Promise<TailOffset | null> {
    const [row] = await this.#read('SELECT * FROM tail_offsets WHERE path = $1', [path]);
    if (!row) return null;
    const { byte_offset: offset, ino, size } = row;
    if (typeof offset !== 'number' || typeof ino !== 'number' || typeof size !== 'number') {
      this.#reportCorrupt('tail_offsets', path);
      return null;
    }
    return { path, offset, ino, size };
  }

  setOffset(o: TailOffset): Promise<void> {
    return this.#enqueue(`offset:${o.path}`, `offset ${o.path}`, [
      sql(
        `INSERT INTO tail_offsets (path, byte_offset, ino, size, updated_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (path) DO UPDATE SET byte_offset = excluded.byte_offset, ino = excluded.ino,
           size = excluded.size, updated_at = excluded.updated_at`,
        o.path,
        o.offset,
        o.ino,
        o.size,
        this.#now(),
      ),
    ]);
  }

  addTokenPoint(sessionKey: string, p: TokenPoint): Promise<void> {
    return this.#enqueue(null, `token point ${sessionKey}@${p.at}`, [
      sql(
        `INSERT INTO token_points (session_key, at, input, output, cumulative_input,
           cumulative_output, context_percent, model, phase)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`,
        sessionKey,
        p.at,
        p.input,
        p.output,
        p.cumulativeInput,
        p.cumulativeOutput,
        p.contextPercent,
        p.model,
        p.phase,
      ),
    ]);
  }

  async tokenPoints(sessionKey: string): Promise<TokenPoint[]> {
    const list = await this.#read(
      'SELECT * FROM token_points WHERE session_key = $1 ORDER BY at, id',
      [sessionKey],
    );
    return this.#parse(list, 'token_points', (r) => String(r.id), rows.tokenPointFromRow);
  }

  saveTestIteration(sessionKey: string, t: TestIteration): Promise<void> {
    const key = `${sessionKey}#${t.iteration}`;
    return this.#enqueue(`test:${key}`, `test iteration ${key}`, [
      sql(
        `INSERT INTO test_iterations (session_key, iteration, total, passed, failed, skipped,
           duration_ms, source, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (session_key, iteration) DO UPDATE SET total = excluded.total,
           passed = excluded.passed, failed = excluded.failed, skipped = excluded.skipped,
           duration_ms = excluded.duration_ms, source = excluded.source,
           updated_at = excluded.updated_at`,
        sessionKey,
        t.iteration,
        t.total,
        t.passed,
        t.failed,
        t.skipped,
        t.durationMs,
        t.source,
        t.updatedAt,
      ),
    ]);
  }

  async testIterations(sessionKey: string): Promise<TestIteration[]> {
    const list = await this.#read(
      'SELECT * FROM test_iterations WHERE session_key = $1 ORDER BY iteration',
      [sessionKey],
    );
    const id = (r: Record<string, unknown>) => `${sessionKey}#${String(r.iteration)}`;
    return this.#parse(list, 'test_iterations', id, rows.testIterationFromRow);
  }

  saveAgent(sessionKey: string, agent: AgentNode): Promise<void> {
    const data = this.#json(agent, `agent ${sessionKey}/${agent?.agentId}`);
    if (data === null) return Promise.resolve();
    const key = `${sessionKey}/${agent.agentId}`;
    return this.#enqueue(`agent:${key}`, `agent ${key}`, [
      sql(
        `INSERT INTO agents (session_key, agent_id, started_at, updated_at, data) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (session_key, agent_id) DO UPDATE SET started_at = excluded.started_at,
           updated_at = excluded.updated_at, data = excluded.data`,
        sessionKey,
        agent.agentId,
        agent.startedAt,
        agent.updatedAt,
        data,
      ),
    ]);
  }

  async agents(sessionKey: string): Promise<AgentNode[]> {
    const list = await this.#read(
      'SELECT * FROM agents WHERE session_key = $1 ORDER BY started_at, agent_id',
      [sessionKey],
    );
    const id = (r: Record<string, unknown>) => `${sessionKey}/${String(r.agent_id)}`;
    return this.#parse(list, 'agents', id, rows.agentFromRow);
  }

  saveDecision(sessionKey: string, decision: Decision): Promise<void> {
    const data = this.#json(decision, `decision ${sessionKey}/${decision?.id}`);
    if (data === null) return Promise.resolve();
    const key = `${sessionKey}/${decision.id}`;
    return this.#enqueue(`decision:${key}`, `decision ${key}`, [
      sql(
        `INSERT INTO decisions (session_key, id, updated_at, data) VALUES ($1, $2, $3, $4)
         ON CONFLICT (session_key, id) DO UPDATE SET updated_at = excluded.updated_at, data = excluded.data`,
        sessionKey,
        decision.id,
        decision.updatedAt,
        data,
      ),
    ]);
  }

  async decisions(sessionKey: string): Promise<Decision[]> {
    const list = await this.#read(
      'SELECT * FROM decisions WHERE session_key = $1 ORDER BY updated_at, id',
      [sessionKey],
    );
    const id = (r: Record<string, unknown>) => `${sessionKey}/${String(r.id)}`;
    return this.#parse(list, 'decisions', id, rows.decisionFromRow);
  }

  saveLogLines(sessionKey: string, lines: readonly LogLine[]): Promise<void> {
    if (lines.length === 0) return Promise.resolve();
    const batch = lines.slice(-LOG_LINES_KEPT);
    return this.#enqueue(null, `${batch.length} log lines of ${sessionKey}`, [
      sql(
        `INSERT INTO log_lines (session_key, n, at, level, text, kind)
         SELECT $1, * FROM unnest($2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[])
         ON CONFLICT DO NOTHING`,
        sessionKey,
        batch.map((l) => l.n),
        batch.map((l) => l.at),
        batch.map((l) => l.level),
        batch.map((l) => l.text),
        batch.map((l) => l.kind ?? null),
      ),
      sql(
        `DELETE FROM log_lines WHERE session_key = $1 AND n < (
           SELECT n FROM log_lines WHERE session_key = $1 ORDER BY n DESC LIMIT 1 OFFSET ${LOG_LINES_KEPT - 1})`,
        sessionKey,
      ),
    ]);
  }

  async logLines(sessionKey: string, limit = LOG_LINES_KEPT): Promise<LogLine[]> {
    const n = Number.isFinite(limit) ? Math.max(0, Math.trunc(limit)) : LOG_LINES_KEPT;
    const list = await this.#read(
      `SELECT * FROM (SELECT * FROM log_lines WHERE session_key = $1 ORDER BY n DESC LIMIT $2) t ORDER BY n`,
      [sessionKey, n],
    );
    const id = (r: Record<string, unknown>) => `${sessionKey}#${String(r.n)}`;
    return this.#parse(list, 'log_lines', id, rows.logLineFromRow);
  }

  async logHeads(): Promise<Map<string, number>> {
    const heads = new Map<string, number>();
    for (const row of await this.#read(
      'SELECT session_key, max(n) AS n FROM log_lines GROUP BY session_key',
    )) {
      if (typeof row.session_key === 'string' && typeof row.n === 'number')
        heads.set(row.session_key, row.n);
    }
    return heads;
  }

  historyAt(
    key: string,
    at: number,
    limits: { transitions: number; logLines: number },
  ): Promise<StoredHistoryAt> {
    return pgHistoryAt((text, values) => this.#read(text, values), key, at, limits);
  }

  historyBounds(key: string): Promise<HistoryBounds> {
    return pgHistoryBounds((text, values) => this.#read(text, values), key);
  }

  transitionBuckets(
    key: string,
    span: { start: number; end: number },
    slices: number,
  ): Promise<StoredBucket[]> {
    return pgTransitionBuckets((text, values) => this.#read(text, values), key, span, slices);
  }

  /** Rows and on-disk bytes of every table (for the scale bench and operators). */
  async footprint(): Promise<{ rows: number; bytes: number }> {
    const list = await this.#read(
      `SELECT coalesce(sum(n_live_tup), 0) AS rows,
              coalesce(sum(pg_total_relation_size(relid)), 0) AS bytes
       FROM pg_stat_user_tables WHERE relname <> 'livestream_schema'`,
    );
    return { rows: Number(list[0]?.rows ?? 0), bytes: Number(list[0]?.bytes ?? 0) };
  }

  /** Commits what is queued, replays what is pending if it can, then closes. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#agentState?.close();
    await this.#writes.flush();
    if (this.#writes.health().pending > 0) await this.#writes.retry();
    this.#writes.stop();
    const { pending } = this.#writes.health();
    if (pending > 0) {
      this.#logger.error(`history store: closing with ${pending} writes that could not be saved`);
    }
    await this.#pool.end();
  }

  #enqueue(key: string | null, describe: string, statements: PgWrite['statements']): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return this.#writes.enqueue({ key, describe, statements });
  }

  async #read(text: string, values: unknown[] = []): Promise<Record<string, unknown>[]> {
    if (this.#closed) throw new Error(`history store ${this.location} is closed`);
    await this.#writes.flush();
    return (await this.#pool.query(text, values)).rows as Record<string, unknown>[];
  }

  #json(value: unknown, what: string): string | null {
    try {
      const text = JSON.stringify(value);
      if (typeof text === 'string') return text;
    } catch {
      // Reported below.
    }
    this.#logger.warn(`history store: ${what} is not JSON; not saved`);
    return null;
  }

  #parse<T>(
    list: Record<string, unknown>[],
    table: string,
    id: (row: Record<string, unknown>) => string,
    parse: (row: Record<string, unknown>) => T | null,
  ): T[] {
    const out: T[] = [];
    for (const row of list) {
      const value = parse(row);
      if (value === null) this.#reportCorrupt(table, id(row));
      else out.push(value);
    }
    return out;
  }

  #reportCorrupt(table: string, id: string): void {
    const key = `${table}:${id}`;
    if (this.#corruptSeen.has(key)) return;
    this.#corruptSeen.add(key);
    this.#logger.warn(`history store: skipped a corrupt row in ${table} (${id})`);
  }
}
