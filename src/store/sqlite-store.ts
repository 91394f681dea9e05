import type { DatabaseSync } from 'node:sqlite';
import { type Logger, pino } from 'pino';
import type { AgentNode, Decision, TestIteration, TokenPoint } from '../shared/metrics.ts';
import type { LogLine, PhaseTransition, SessionState, SessionStatus } from '../shared/model.ts';
import { SqliteAlertStore } from './alert-store.ts';
import { describeError, isEnvironmental, openDatabase } from './connection.ts';
import * as replay from './replay-statements.ts';
import * as rows from './rows.ts';
import { LOG_LINES_KEPT, prepareStatements, type Statements } from './statements.ts';
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
import { type WriteOp, WriteQueue } from './write-queue.ts';

export interface SqliteStoreOptions {
  logger?: Logger;
  /** Clock for `health().lastErrorAt` and offset bookkeeping (default `Date.now`). */
  now?: () => number;
  /** Most writes kept in memory while the database refuses them (default 10,000). */
  pendingCap?: number;
  /** First retry delay after a failed write, doubled up to `retryMaxMs` (250 ms, 30 s). */
  retryInitialMs?: number;
  retryMaxMs?: number;
  /** How long a write waits for another connection's lock (default 5,000 ms). */
  busyTimeoutMs?: number;
}

/**
 * Session history in one SQLite file (node:sqlite, WAL). Writes of one
 * event-loop turn share a transaction; writes the database refuses are kept
 * and replayed (see `WriteQueue`), so no write method ever rejects. Reads
 * first commit what is queued, so they see every write made before them.
 */
export class SqliteStore implements SessionStore, MetricsStore, LogStore, StoreHealthEvents {
  private readonly s: Statements;
  /** Prepared on the first replay, which most servers never open. */
  private replayStatements: replay.ReplayStatements | null = null;
  private readonly writes: WriteQueue;
  private readonly corruptSeen = new Set<string>();
  private closed = false;
  private warnedClosedWrite = false;
  private commits = 0;
  /** Prunes that deleted sessions (and so transitions), for `transitionsSince`. */
  private transitionDeletions = 0;

  private constructor(
    private readonly db: DatabaseSync,
    readonly location: string,
    private readonly logger: Logger,
    private readonly now: () => number,
    opts: SqliteStoreOptions,
  ) {
    this.s = prepareStatements(db);
    this.writes = new WriteQueue({
      transaction: (fn) => this.transaction(fn),
      isEnvironmental,
      describeError,
      logger,
      now,
      pendingCap: opts.pendingCap,
      retryInitialMs: opts.retryInitialMs,
      retryMaxMs: opts.retryMaxMs,
    });
  }

  /**
   * Opens (creating folders and file as needed) and migrates the database;
   * `:memory:` for tests. Throws `SchemaTooNewError` for a database written by
   * a newer version, and an error naming the file when it cannot be opened.
   */
  static open(path: string, opts: SqliteStoreOptions = {}): SqliteStore {
    const logger = opts.logger ?? pino({ name: 'store' }, pino.destination(2));
    const db = openDatabase(path, { busyTimeoutMs: opts.busyTimeoutMs ?? 5000, logger });
    return new SqliteStore(db, path, logger, opts.now ?? Date.now, opts);
  }

  /** The underlying connection, for diagnostics and tests; do not write through it. */
  get database(): DatabaseSync {
    return this.db;
  }

  health(): StoreHealth {
    return this.writes.health();
  }

  onHealthChange(listener: (health: StoreHealth) => void): () => void {
    return this.writes.onHealthChange(listener);
  }

  /** Transactions committed since open (write batching shows as few commits for many writes). */
  stats(): { commits: number } {
    return { commits: this.commits };
  }

  /** Alerts and notifications in the same database file. */
  alertStore(): SqliteAlertStore {
    return new SqliteAlertStore(this.database, this.logger);
  }

  /** The agents' state stays in files beside the database (`FileAgentState`). */
  agentState(): null {
    return null;
  }

  /** Commits everything queued now (normally done at the end of the event-loop turn). */
  flush(): void {
    if (!this.closed) this.writes.flush();
  }

  /** Replays pending writes now instead of waiting for the next retry; true when none are left. */
  retryPending(): boolean {
    return this.closed ? false : this.writes.retry();
  }

  saveSession(status: SessionStatus, document: unknown): Promise<void> {
    const json = this.serialize(status, document);
    if (!json) return Promise.resolve();
    return this.enqueue(`session:${status.id}`, `session ${status.id}`, () =>
      this.s.upsertSession.run(
        status.id,
        status.sessionId,
        status.projectDir,
        status.state,
        status.changedAt,
        json.status,
        json.document,
      ),
    );
  }

  addTransition(t: PhaseTransition): Promise<void> {
    return this.enqueue(null, `transition ${t.sessionKey} → ${t.to}`, () =>
      this.s.insertTransition.run(t.sessionKey, t.from, t.to, t.at, t.phaseNumber, t.status),
    );
  }

  async listSessions(filter?: { state?: SessionState }): Promise<SessionStatus[]> {
    this.beforeRead();
    const list = filter?.state
      ? this.s.listSessionsByState.all(filter.state)
      : this.s.listSessions.all();
    return this.parseRows(list, 'sessions', (r) => String(r.key), rows.sessionFromRow);
  }

  async getSession(key: string): Promise<StoredSession | null> {
    this.beforeRead();
    const row = this.s.getSession.get(key);
    if (!row) return null;
    const status = rows.sessionFromRow(row);
    const document = rows.documentFromRow(row);
    if (!status || document === undefined) {
      this.reportCorrupt('sessions', key);
      return null;
    }
    return { status, document };
  }

  async transitions(key: string): Promise<PhaseTransition[]> {
    this.beforeRead();
    const list = this.s.transitions.all(key);
    return this.parseRows(list, 'transitions', (r) => String(r.id), rows.transitionFromRow);
  }

  async transitionsSince(afterId: number, key?: string): Promise<TransitionsSince> {
    this.beforeRead();
    const after = Number.isFinite(afterId) ? Math.max(0, Math.trunc(afterId)) : 0;
    const list =
      key === undefined
        ? this.s.transitionsSince.all(after)
        : this.s.sessionTransitionsSince.all(key, after);
    const last = this.s.lastTransitionId.get()?.id;
    return {
      transitions: this.parseRows(
        list,
        'transitions',
        (r) => String(r.id),
        rows.storedTransitionFromRow,
      ),
      lastId: typeof last === 'number' ? last : 0,
      deletions: this.transitionDeletions,
    };
  }

  async prune(before: number): Promise<{ sessions: number }> {
    this.beforeRead();
    let sessions = 0;
    try {
      this.transaction(() => {
        for (const row of this.s.expiredSessions.all(before)) {
          for (const del of this.s.deleteByKey) del.run(row.key as string);
          sessions += Number(this.s.deleteSession.run(row.key as string).changes);
        }
        for (const del of this.s.deleteOrphans) del.run(before);
      });
      // Committed: their transitions went with them (and the ids may be reused).
      if (sessions > 0) this.transitionDeletions++;
      this.db.exec('PRAGMA incremental_vacuum');
      // Give the freed pages back to the file system now rather than at the next checkpoint.
      this.db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    } catch (error) {
      this.logger.warn({ err: describeError(error) }, 'history store: prune failed');
      return { sessions: 0 };
    }
    // Space was freed: a store stuck on a full disk may be able to write again.
    if (!this.writes.health().writable) this.writes.retry();
    return { sessions };
  }

  async getOffset(path: string): Promise<TailOffset | null> {
    this.beforeRead();
    const row = this.s.getOffset.get(path);
    if (!row) return null;
    const { byte_offset: offset, ino, size } = row;
    if (typeof offset !== 'number' || typeof ino !== 'number' || typeof size !== 'number') {
      this.reportCorrupt('tail_offsets', path);
      return null;
    }
    return { path, offset, ino, size };
  }

  setOffset(o: TailOffset): Promise<void> {
    const at = this.now();
    return this.enqueue(`offset:${o.path}`, `offset ${o.path}`, () =>
      this.s.upsertOffset.run(o.path, o.offset, o.ino, o.size, at),
    );
  }

  addTokenPoint(sessionKey: string, p: TokenPoint): Promise<void> {
    return this.enqueue(null, `token point ${sessionKey}@${p.at}`, () =>
      this.s.insertTokenPoint.run(
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
    );
  }

  async tokenPoints(sessionKey: string): Promise<TokenPoint[]> {
    this.beforeRead();
    const list = this.s.tokenPoints.all(sessionKey);
    return this.parseRows(list, 'token_points', (r) => String(r.id), rows.tokenPointFromRow);
  }

  saveTestIteration(sessionKey: string, t: TestIteration): Promise<void> {
    const key = `${sessionKey}#${t.iteration}`;
    return this.enqueue(`test:${key}`, `test iteration ${key}`, () =>
      this.s.upsertTestIteration.run(
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
    );
  }

  async testIterations(sessionKey: string): Promise<TestIteration[]> {
    this.beforeRead();
    const list = this.s.testIterations.all(sessionKey);
    const id = (r: Record<string, unknown>) => `${sessionKey}#${String(r.iteration)}`;
    return this.parseRows(list, 'test_iterations', id, rows.testIterationFromRow);
  }

  saveAgent(sessionKey: string, agent: AgentNode): Promise<void> {
    const data = this.json(agent, `agent ${sessionKey}/${agent?.agentId}`);
    if (data === null) return Promise.resolve();
    const key = `${sessionKey}/${agent.agentId}`;
    return this.enqueue(`agent:${key}`, `agent ${key}`, () =>
      this.s.upsertAgent.run(sessionKey, agent.agentId, agent.startedAt, agent.updatedAt, data),
    );
  }

  async agents(sessionKey: string): Promise<AgentNode[]> {
    this.beforeRead();
    const list = this.s.agents.all(sessionKey);
    const id = (r: Record<string, unknown>) => `${sessionKey}/${String(r.agent_id)}`;
    return this.parseRows(list, 'agents', id, rows.agentFromRow);
  }

  saveDecision(sessionKey: string, decision: Decision): Promise<void> {
    const data = this.json(decision, `decision ${sessionKey}/${decision?.id}`);
    if (data === null) return Promise.resolve();
    const key = `${sessionKey}/${decision.id}`;
    return this.enqueue(`decision:${key}`, `decision ${key}`, () =>
      this.s.upsertDecision.run(sessionKey, decision.id, decision.updatedAt, data),
    );
  }

  async decisions(sessionKey: string): Promise<Decision[]> {
    this.beforeRead();
    const list = this.s.decisions.all(sessionKey);
    const id = (r: Record<string, unknown>) => `${sessionKey}/${String(r.id)}`;
    return this.parseRows(list, 'decisions', id, rows.decisionFromRow);
  }

  saveLogLines(sessionKey: string, lines: readonly LogLine[]): Promise<void> {
    if (lines.length === 0) return Promise.resolve();
    const batch = lines.slice(-LOG_LINES_KEPT);
    return this.enqueue(null, `${batch.length} log lines of ${sessionKey}`, () => {
      for (const l of batch) {
        this.s.insertLogLine.run(sessionKey, l.n, l.at, l.level, l.text, l.kind ?? null);
      }
      this.s.trimLogLines.run(sessionKey);
    });
  }

  async logLines(sessionKey: string, limit = LOG_LINES_KEPT): Promise<LogLine[]> {
    this.beforeRead();
    const n = Number.isFinite(limit) ? Math.max(0, Math.trunc(limit)) : LOG_LINES_KEPT;
    const list = this.s.logLines.all(sessionKey, n);
    const id = (r: Record<string, unknown>) => `${sessionKey}#${String(r.n)}`;
    return this.parseRows(list, 'log_lines', id, rows.logLineFromRow);
  }

  async logHeads(): Promise<Map<string, number>> {
    this.beforeRead();
    const heads = new Map<string, number>();
    for (const row of this.s.logHeads.all()) {
      if (typeof row.session_key === 'string' && typeof row.n === 'number') {
        heads.set(row.session_key, row.n);
      }
    }
    return heads;
  }

  async historyAt(
    key: string,
    at: number,
    limits: { transitions: number; logLines: number },
  ): Promise<StoredHistoryAt> {
    return replay.historyAt(this.replayReads(), key, at, limits);
  }

  async historyBounds(key: string): Promise<HistoryBounds> {
    return replay.historyBounds(this.replayReads(), key);
  }

  async transitionBuckets(
    key: string,
    span: { start: number; end: number },
    slices: number,
  ): Promise<StoredBucket[]> {
    return replay.transitionBuckets(this.replayReads(), key, span, slices);
  }

  private replayReads(): replay.ReplayStatements {
    this.beforeRead();
    this.replayStatements ??= replay.prepareReplayStatements(this.db);
    return this.replayStatements;
  }

  /** Commits what is queued, replays what is pending if it can, then closes. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.writes.flush();
    if (this.writes.health().pending > 0) this.writes.retry();
    this.writes.stop();
    this.closed = true;
    const { pending } = this.writes.health();
    if (pending > 0) {
      this.logger.error(`history store: closing with ${pending} writes that could not be saved`);
    }
    this.db.close();
  }

  private enqueue(key: string | null, describe: string, apply: () => void): Promise<void> {
    if (this.closed) {
      if (!this.warnedClosedWrite) {
        this.warnedClosedWrite = true;
        this.logger.warn(`history store: write after close ignored (${describe})`);
      }
      return Promise.resolve();
    }
    const op: WriteOp = { key, describe, apply };
    return this.writes.enqueue(op);
  }

  private transaction(fn: () => void): void {
    this.s.begin.run();
    try {
      fn();
      this.s.commit.run();
      this.commits++;
    } catch (error) {
      // SQLite may already have rolled back (SQLITE_FULL, IOERR); a failed COMMIT has not.
      if (this.db.isTransaction) {
        try {
          this.db.exec('ROLLBACK');
        } catch {
          // The connection is unusable; the next BEGIN reports the real problem.
        }
      }
      throw error;
    }
  }

  private beforeRead(): void {
    if (this.closed) throw new Error(`history store ${this.location} is closed`);
    this.writes.flush();
  }

  /** Serialised at call time: the write must not change if the caller reuses the object. */
  private serialize(
    status: SessionStatus,
    document: unknown,
  ): { status: string; document: string } | null {
    const s = this.json(status, `session ${status?.id}`);
    const d = this.json(document ?? null, `document of session ${status?.id}`);
    return s === null || d === null ? null : { status: s, document: d };
  }

  private json(value: unknown, what: string): string | null {
    try {
      const text = JSON.stringify(value);
      if (typeof text === 'string') return text;
    } catch (error) {
      this.logger.warn({ err: String(error) }, `history store: ${what} is not JSON; not saved`);
      return null;
    }
    this.logger.warn(`history store: ${what} is not JSON; not saved`);
    return null;
  }

  private parseRows<T>(
    list: Record<string, unknown>[],
    table: string,
    id: (row: Record<string, unknown>) => string,
    parse: (row: Record<string, unknown>) => T | null,
  ): T[] {
    const out: T[] = [];
    for (const row of list) {
      const value = parse(row);
      if (value === null) this.reportCorrupt(table, id(row));
      else out.push(value);
    }
    return out;
  }

  /** One log line per corrupt row, not one per read of it. */
  private reportCorrupt(table: string, id: string): void {
    const key = `${table}:${id}`;
    if (this.corruptSeen.has(key)) return;
    this.corruptSeen.add(key);
    this.logger.warn(`history store: skipped a corrupt row in ${table} (${id})`);
  }
}
