import type { AgentBook } from '../core/agents/book.ts';
import type { AgentInput } from '../core/agents/events.ts';
import type { PriceTable } from '../core/agents/prices.ts';
import type { AgentNode, Decision, TestIteration, TokenPoint } from '../shared/metrics.ts';
import type { LogLine, PhaseTransition, SessionState, SessionStatus } from '../shared/model.ts';
import type { AlertStore } from './alert-store.ts';

/** A stored session: its last status and the last good document it came from. */
export interface StoredSession {
  status: SessionStatus;
  document: unknown;
}

/** Where a tailed file was left, so a restart resumes instead of rescanning. */
export interface TailOffset {
  path: string;
  offset: number;
  /** Inode and size at that offset: a change of inode or a smaller size means rotation/truncation. */
  ino: number;
  size: number;
}

/** A stored phase transition and its row id; ids grow with every insert. */
export interface StoredTransition extends PhaseTransition {
  id: number;
}

/** What `SessionStore.transitionsSince` read. */
export interface TransitionsSince {
  /** Oldest id first. */
  transitions: StoredTransition[];
  /** The greatest transition id in the store (any session) when read; 0 when there is none. */
  lastId: number;
  /**
   * How many times this store deleted transitions (retention) since it was opened. When it
   * differs from an earlier read's, sessions may have lost rows and ids may be reused: what
   * was built from earlier reads must be read again from id 0.
   */
  deletions: number;
}

/** Whether history is being saved right now (the disk may be full or read-only). */
export interface StoreHealth {
  writable: boolean;
  lastError: string | null;
  /** Writes queued while the store was failing, replayed when it recovers. */
  pending: number;
  /** Queued writes discarded (oldest first) because the pending queue was full, since open. */
  dropped?: number;
  /** When `lastError` happened (epoch ms). */
  lastErrorAt?: number | null;
}

/** Lets a status page or log react when the store stops or resumes saving. */
export interface StoreHealthEvents {
  /** Called with the new health on every writable ⇄ failing change; returns the unsubscribe function. */
  onHealthChange(listener: (health: StoreHealth) => void): () => void;
}

/**
 * History of build sessions. SQLite (node:sqlite, WAL) is the embedded
 * default; the interface is async so a Postgres implementation fits behind it.
 * Writes never throw to callers: a failing store reports it through `health()`
 * and keeps what it could not write until it can.
 */
export interface SessionStore {
  saveSession(status: SessionStatus, document: unknown): Promise<void>;
  addTransition(transition: PhaseTransition): Promise<void>;
  listSessions(filter?: { state?: SessionState }): Promise<SessionStatus[]>;
  getSession(key: string): Promise<StoredSession | null>;
  transitions(key: string): Promise<PhaseTransition[]>;
  /**
   * Transitions stored after the one with id `afterId` (0: all), of every session or of
   * session `key` only: what was appended since an earlier read. Without `key` it costs the
   * rows inserted since `afterId`, however long the sessions' histories are.
   */
  transitionsSince(afterId: number, key?: string): Promise<TransitionsSince>;
  /** Deletes sessions whose last change is before `before` (epoch ms) and reclaims space. */
  prune(before: number): Promise<{ sessions: number }>;
  getOffset(path: string): Promise<TailOffset | null>;
  setOffset(offset: TailOffset): Promise<void>;
  health(): StoreHealth;
  close(): Promise<void>;
}

/** What an acknowledgement and the attention engine need of the store as a whole. */
export interface StoreUnits {
  /** Commits the writes queued so far (SQLite at once; PostgreSQL resolves once committed or parked). */
  flush(): void | Promise<void>;
  /** Alerts and their notification outbox, in the same database as the history. */
  alertStore(): AlertStore;
  /**
   * Where the agents engine keeps its state, in the same database as the
   * history (PostgreSQL: a writer replica that takes over finds the agent
   * sessions forwarders were acknowledged for); null keeps it in files beside
   * the database (SQLite: see `FileAgentState`).
   */
  agentState(): AgentStateStore | null;
}

/** What an agents checkpoint restores: the book, the transcript offsets it was built from, the journal it covers. */
export interface SavedAgentState {
  book: AgentBook;
  offsets: TailOffset[];
  /** The last journal generation the book includes (-1: none). */
  journal: number;
}

/**
 * The agents engine's saved state: a checkpoint (the book with the
 * transcript offsets it was read to, saved together) and a journal of the
 * forwarded agent inputs applied since, each durable before the forward
 * ingest acknowledges it. The journal is numbered by generation: a checkpoint
 * names the generation it covers, so a restart replays only the later ones,
 * none twice. One process (the writer) uses it at a time.
 */
export interface AgentStateStore {
  /** Where it is kept, for log lines (no secrets). */
  readonly location: string;
  /** The last checkpoint; null when there is none or it cannot be used (then read from scratch). */
  load(prices: PriceTable): Promise<SavedAgentState | null>;
  /**
   * The entries of the generations after `covered`, in the order appended;
   * later appends go to a generation past them. Call it once, before `append`.
   */
  replay(covered: number): Promise<AgentInput[]>;
  /** Appends to the current generation; resolves once durable (rejects when it is not). */
  append(entries: readonly AgentInput[]): Promise<void>;
  /**
   * Starts a new generation and returns the one just closed: call it in the
   * tick a checkpoint captures the book, which then covers it.
   */
  rotate(): number;
  /**
   * Saves `book` and `offsets` as one checkpoint covering journal generation
   * `covered`, then drops the generations it covers. Both come from the
   * caller's tick; the write happens after. True once saved; false (logged)
   * when it could not be, the previous checkpoint and the journal then stay.
   */
  save(book: AgentBook, offsets: readonly TailOffset[], covered: number): Promise<boolean>;
  /** Waits for appends in flight and releases what it holds open. */
  close(): Promise<void>;
}

/** Everything the application keeps history in: one object fills all of it (SQLite or PostgreSQL). */
export type HistoryStore = SessionStore &
  MetricsStore &
  LogStore &
  ReplayStore &
  StoreHealthEvents &
  StoreUnits;

/** What `ReplayStore.historyAt` read: one session's history around a moment. */
export interface StoredHistoryAt {
  /** The last `limits.transitions` transitions at or before the moment, oldest first (by time, then id). */
  transitions: PhaseTransition[];
  /** Transitions at or before the moment in all. */
  count: number;
  /** The first transition after the moment; null when none comes after it. */
  firstAfter: PhaseTransition | null;
  /** The last token point at or before the moment, and the last one of all. */
  tokenAt: TokenPoint | null;
  tokenLast: TokenPoint | null;
  /** Test iterations written by the moment, by write time then iteration. */
  tests: TestIteration[];
  /** The last `limits.logLines` kept log lines written at or before the moment, by line number. */
  logs: LogLine[];
}

/** The first and last stored times of a session's history (null: nothing stored). */
export interface HistoryBounds {
  firstTransitionAt: number | null;
  lastTokenAt: number | null;
  lastLogAt: number | null;
}

/** A slice of a session's span: how many transitions fell in it and the last of them. */
export interface StoredBucket {
  bucket: number;
  transitions: number;
  last: PhaseTransition;
}

/**
 * Replay reads (`GET /api/status/:id?at=`, the slider's summary). Each is an
 * index range on (session, time), so a frame costs the same on a 10-row and a
 * 100,000-row history; only `transitionBuckets` reads every transition of the
 * session, once per opened replay, and returns at most `slices` rows.
 */
export interface ReplayStore {
  historyAt(
    key: string,
    at: number,
    limits: { transitions: number; logLines: number },
  ): Promise<StoredHistoryAt>;
  historyBounds(key: string): Promise<HistoryBounds>;
  /**
   * The transitions of `key` grouped into `slices` equal slices of [start, end]:
   * slice = clamp(floor((at − start) × slices / max(1, end − start)), 0, slices − 1);
   * slices without a transition are left out.
   */
  transitionBuckets(
    key: string,
    span: { start: number; end: number },
    slices: number,
  ): Promise<StoredBucket[]>;
}

/** Measured metrics history (issue 5), in the same database. */
export interface MetricsStore {
  addTokenPoint(sessionKey: string, point: TokenPoint): Promise<void>;
  tokenPoints(sessionKey: string): Promise<TokenPoint[]>;
  saveTestIteration(sessionKey: string, iteration: TestIteration): Promise<void>;
  testIterations(sessionKey: string): Promise<TestIteration[]>;
  saveAgent(sessionKey: string, agent: AgentNode): Promise<void>;
  agents(sessionKey: string): Promise<AgentNode[]>;
  saveDecision(sessionKey: string, decision: Decision): Promise<void>;
  decisions(sessionKey: string): Promise<Decision[]>;
}

/**
 * The recent log lines of each session, so a restarted server can show them.
 * Only the newest lines (1,000 per session in SQLite) are kept.
 */
export interface LogStore {
  /** Appends lines; a line whose `n` is already stored for the session is ignored (replay-safe). */
  saveLogLines(sessionKey: string, lines: readonly LogLine[]): Promise<void>;
  /** The newest `limit` lines (default: all kept), oldest first. */
  logLines(sessionKey: string, limit?: number): Promise<LogLine[]>;
  /** The number of the newest stored line of every session that has lines. */
  logHeads(): Promise<Map<string, number>>;
}
