import { randomUUID } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import type { Logger } from 'pino';
import type { AgentBook } from '../core/agents/book.ts';
import type { AgentInput } from '../core/agents/events.ts';
import type { PriceTable } from '../core/agents/prices.ts';
import type { AgentSessionState } from '../core/agents/session.ts';
import { fromSnapshot, SNAPSHOT_VERSION, sessionJson } from '../core/agents/snapshot.ts';
import {
  NotOwnerError,
  PgAgentJournal,
  type PgAgentJournalOptions,
} from './postgres-agent-journal.ts';
import type { AgentStateStore, SavedAgentState, TailOffset } from './types.ts';

/** What a save last wrote of a session: the object and its version then (a reload has new objects). */
interface Written {
  session: AgentSessionState;
  version: number;
}

/** Session rows per INSERT, so a month of sessions is not one statement of hundreds of MB. */
const ROWS_PER_INSERT = 500;

/**
 * `AgentStateStore` in PostgreSQL (tables of PostgreSQL migration 3), beside
 * the history replicas share: the writer that takes over finds every agent
 * session forwarders were acknowledged for, with its cost and tokens.
 *
 * - `agent_sessions`: one row per session (its snapshot JSON). A save writes
 *   the sessions whose object or `version` changed since the last save and
 *   deletes the ones the book no longer has, with the `agent_checkpoint` row
 *   (offsets, covered journal generation) and the removal of the covered
 *   journal rows, in one transaction.
 * - `agent_journal`: one row per commit of forwarded inputs (a JSON array);
 *   the commit is the durability an acknowledgement waits for (see
 *   `PgAgentJournal` for PostgreSQL being away).
 * - `agent_checkpoint.owner`: `load` claims the state for this process; a
 *   save or append from an earlier holder (a writer that lost its lease but
 *   still runs) is refused from then on, so it cannot write over its successor.
 */
export class PostgresAgentState implements AgentStateStore {
  readonly location: string;
  readonly #pool: Pool;
  readonly #log: Logger;
  readonly #owner = randomUUID();
  readonly #journal: PgAgentJournal;
  #gen = 0;
  /** By session id; null until a load succeeded (the first save then rewrites every row). */
  #written: Map<string, Written> | null = null;

  constructor(
    pool: Pool,
    location: string,
    logger: Logger,
    opts: Pick<PgAgentJournalOptions, 'isEnvironmental' | 'retryInitialMs' | 'retryMaxMs'>,
  ) {
    this.#pool = pool;
    this.location = location;
    this.#log = logger;
    this.#journal = new PgAgentJournal({ ...opts, pool, owner: this.#owner, logger });
  }

  async load(prices: PriceTable): Promise<SavedAgentState | null> {
    // Claimed before reading, so nothing an earlier holder commits from now on is missed.
    await this.#pool.query(
      `INSERT INTO agent_checkpoint (id, owner) VALUES (1, $1)
       ON CONFLICT (id) DO UPDATE SET owner = excluded.owner`,
      [this.#owner],
    );
    const meta = (
      await this.#pool.query(
        'SELECT snapshot_version, offsets, journal FROM agent_checkpoint WHERE id = 1',
      )
    ).rows[0] as { snapshot_version: number | null; offsets: string; journal: number } | undefined;
    if (!meta || meta.snapshot_version === null) return null;
    const unusable = (why: string) => {
      this.#log.warn(
        { store: this.location, why },
        'agents checkpoint unusable; reading transcripts from scratch',
      );
      return null;
    };
    if (meta.snapshot_version !== SNAPSHOT_VERSION) {
      return unusable(`snapshot version ${meta.snapshot_version}`);
    }
    const rows = (await this.#pool.query('SELECT data FROM agent_sessions')).rows as {
      data: string;
    }[];
    let offsets: TailOffset[];
    let sessions: unknown[];
    try {
      offsets = JSON.parse(meta.offsets) as TailOffset[];
      sessions = rows.map((r) => JSON.parse(r.data) as unknown);
    } catch (error) {
      return unusable((error as Error).message);
    }
    const book = fromSnapshot(prices, { version: SNAPSHOT_VERSION, sessions });
    if (!book || !Array.isArray(offsets)) return unusable('not a checkpoint of this version');
    this.#written = new Map(
      [...book.sessions.values()].map((s) => [s.id, { session: s, version: s.version }]),
    );
    return { book, offsets, journal: Number(meta.journal) };
  }

  async replay(covered: number): Promise<AgentInput[]> {
    const rows = (
      await this.#pool.query('SELECT gen, entries FROM agent_journal WHERE gen > $1 ORDER BY seq', [
        covered,
      ])
    ).rows as { gen: number; entries: string }[];
    const entries: AgentInput[] = [];
    for (const row of rows) {
      try {
        entries.push(...(JSON.parse(row.entries) as AgentInput[]));
      } catch {
        this.#log.warn({ gen: row.gen }, 'agents journal: an unreadable row skipped');
      }
    }
    const last = (await this.#pool.query('SELECT max(gen) AS gen FROM agent_journal')).rows[0] as
      | { gen: number | null }
      | undefined;
    this.#gen = Math.max(covered, Number(last?.gen ?? -1)) + 1;
    return entries;
  }

  append(entries: readonly AgentInput[]): Promise<void> {
    if (entries.length === 0) return Promise.resolve();
    return this.#journal.append(this.#gen, entries);
  }

  rotate(): number {
    return this.#gen++;
  }

  async save(book: AgentBook, offsets: readonly TailOffset[], covered: number): Promise<boolean> {
    // Captured now, in the caller's tick: the book moves on while the transaction runs.
    const written = this.#written;
    const changed: { id: string; data: string; seen: Written }[] = [];
    for (const s of book.sessions.values()) {
      const before = written?.get(s.id);
      if (before && before.session === s && before.version === s.version) continue;
      changed.push({ id: s.id, data: sessionJson(s), seen: { session: s, version: s.version } });
    }
    const gone = written ? [...written.keys()].filter((id) => !book.sessions.has(id)) : [];
    const offsetsText = JSON.stringify(offsets);
    let client: PoolClient | null = null;
    try {
      client = await this.#pool.connect();
      await client.query('BEGIN');
      const owner = (
        await client.query('SELECT owner FROM agent_checkpoint WHERE id = 1 FOR UPDATE')
      ).rows[0] as { owner: string } | undefined;
      if (owner?.owner !== this.#owner) throw new NotOwnerError();
      if (!written) await client.query('DELETE FROM agent_sessions');
      for (let i = 0; i < changed.length; i += ROWS_PER_INSERT) {
        const part = changed.slice(i, i + ROWS_PER_INSERT);
        await client.query(
          `INSERT INTO agent_sessions (id, data) SELECT * FROM unnest($1::text[], $2::text[])
           ON CONFLICT (id) DO UPDATE SET data = excluded.data`,
          [part.map((c) => c.id), part.map((c) => c.data)],
        );
      }
      if (gone.length > 0) {
        await client.query('DELETE FROM agent_sessions WHERE id = ANY($1::text[])', [gone]);
      }
      await client.query(
        `UPDATE agent_checkpoint SET snapshot_version = $1, offsets = $2, journal = $3, saved_at = $4
         WHERE id = 1`,
        [SNAPSHOT_VERSION, offsetsText, covered, Date.now()],
      );
      await client.query('DELETE FROM agent_journal WHERE gen <= $1', [covered]);
      await client.query('COMMIT');
    } catch (error) {
      await client?.query('ROLLBACK').catch(() => undefined);
      client?.release(error as Error);
      client = null;
      this.#log.warn(
        { store: this.location, err: (error as Error).message },
        'cannot save the agents checkpoint',
      );
      return false;
    } finally {
      client?.release();
    }
    const next = written ?? new Map<string, Written>();
    for (const c of changed) next.set(c.id, c.seen);
    for (const id of gone) next.delete(id);
    this.#written = next;
    return true;
  }

  close(): Promise<void> {
    return this.#journal.close();
  }
}
