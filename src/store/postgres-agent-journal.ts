import type { Pool } from 'pg';
import type { Logger } from 'pino';
import type { AgentInput } from '../core/agents/events.ts';

/** Appends waiting for one commit, oldest first. */
interface Batch {
  gen: number;
  entries: AgentInput[];
  /** Its acknowledgement was given from memory (PostgreSQL away): settling it again does nothing. */
  parked: boolean;
  sending: boolean;
  resolve(): void;
  reject(error: unknown): void;
  done: Promise<void>;
}

export interface PgAgentJournalOptions {
  pool: Pool;
  /** The `agent_checkpoint.owner` this process claimed: rows are inserted only while it holds. */
  owner: string;
  logger: Logger;
  /** True for errors of a server that is away (retried), false for ones of this write (refused). */
  isEnvironmental(error: unknown): boolean;
  /** Most entries acknowledged from memory while PostgreSQL is away (default 100,000). */
  pendingCap?: number;
  retryInitialMs?: number;
  retryMaxMs?: number;
}

/**
 * The `agent_journal` table's writer: one INSERT at a time (rows keep the
 * order of the appends; seq is taken at insert), the appends made meanwhile
 * joined into the next one. An append resolves once committed.
 *
 * While PostgreSQL is away it does what the history store does with its
 * writes: keeps them in memory (up to `pendingCap` entries), acknowledges
 * them, and commits them in order once it is back, so forwarders are not held
 * up, and nothing is applied twice by a resend; they are lost only if the
 * writer also dies meanwhile. Past the cap an append is refused (the
 * forwarder keeps its events). A refusal that is not PostgreSQL being away
 * (another writer took over) rejects at once.
 */
export class PgAgentJournal {
  readonly #opts: PgAgentJournalOptions;
  readonly #cap: number;
  readonly #queue: Batch[] = [];
  #parked = 0;
  #away = false;
  #draining = false;
  #drained: Promise<void> = Promise.resolve();
  #closing = false;
  #wake: (() => void) | null = null;

  constructor(opts: PgAgentJournalOptions) {
    this.#opts = opts;
    this.#cap = opts.pendingCap ?? 100_000;
  }

  /** Entries acknowledged from memory, not yet committed. */
  get pending(): number {
    return this.#parked;
  }

  append(gen: number, entries: readonly AgentInput[]): Promise<void> {
    const last = this.#queue.at(-1);
    if (last && !last.sending && !last.parked && last.gen === gen) {
      last.entries.push(...entries);
      return last.done;
    }
    let resolve = () => {};
    let reject: (error: unknown) => void = () => {};
    const done = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const batch: Batch = {
      gen,
      entries: [...entries],
      parked: false,
      sending: false,
      resolve,
      reject,
      done,
    };
    this.#queue.push(batch);
    if (this.#away) this.#park();
    if (!this.#draining) {
      this.#draining = true;
      this.#drained = this.#drain();
    }
    return done;
  }

  /** Commits what is queued if it can (one try while PostgreSQL is away), then stops. */
  async close(): Promise<void> {
    this.#closing = true;
    this.#wake?.();
    await this.#drained;
  }

  async #drain(): Promise<void> {
    let delay = this.#opts.retryInitialMs ?? 250;
    for (let batch = this.#queue[0]; batch; batch = this.#queue[0]) {
      batch.sending = true;
      try {
        await this.#insert(batch);
        this.#settle(batch, null);
        if (this.#away) {
          this.#away = false;
          this.#opts.logger.info('agents journal: PostgreSQL is back; kept entries committed');
        }
        delay = this.#opts.retryInitialMs ?? 250;
      } catch (error) {
        if (error instanceof NotOwnerError || !this.#opts.isEnvironmental(error)) {
          this.#settle(batch, error);
          continue;
        }
        if (this.#closing) {
          this.#opts.logger.error(
            { err: (error as Error).message, entries: this.#parked },
            'agents journal: closing with entries PostgreSQL never got',
          );
          for (const b of this.#queue.splice(0)) this.#settle(b, error, false);
          break;
        }
        if (!this.#away) {
          this.#away = true;
          this.#opts.logger.warn(
            { err: (error as Error).message },
            'agents journal: PostgreSQL away; keeping entries in memory',
          );
        }
        batch.sending = false;
        this.#park();
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          this.#wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.#wake = null;
        delay = Math.min(delay * 2, this.#opts.retryMaxMs ?? 5_000);
      }
    }
    // In the turn the loop found the queue empty: the next append starts a new drain.
    this.#draining = false;
  }

  /** Acknowledges the queued appends from memory, as far as the cap allows; refuses the rest. */
  #park(): void {
    for (const b of [...this.#queue]) {
      if (b.parked) continue;
      if (this.#parked + b.entries.length > this.#cap) {
        this.#queue.splice(this.#queue.indexOf(b), 1);
        b.reject(new Error('agents journal: PostgreSQL away and too many entries kept'));
        continue;
      }
      b.parked = true;
      this.#parked += b.entries.length;
      b.resolve();
    }
  }

  #settle(batch: Batch, error: unknown, shift = true): void {
    if (shift) this.#queue.shift();
    if (batch.parked) this.#parked -= batch.entries.length;
    if (error === null) {
      batch.resolve();
      return;
    }
    this.#opts.logger.warn(
      { err: (error as Error).message, entries: batch.entries.length, acknowledged: batch.parked },
      'agents journal: append refused',
    );
    batch.reject(error);
  }

  async #insert(batch: Batch): Promise<void> {
    const result = await this.#opts.pool.query(
      `INSERT INTO agent_journal (gen, entries)
       SELECT $1, $2 WHERE EXISTS (SELECT 1 FROM agent_checkpoint WHERE id = 1 AND owner = $3)`,
      [batch.gen, JSON.stringify(batch.entries), this.#opts.owner],
    );
    if (result.rowCount !== 1) throw new NotOwnerError();
  }
}

/** Refused: a newer writer took this process's claim on the agents state. */
export class NotOwnerError extends Error {
  constructor() {
    super('another process took over the agents state (a newer writer)');
  }
}
