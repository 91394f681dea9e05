import type { Logger } from 'pino';
import type { StoreHealth } from './types.ts';

/** One queued write: statements run in order inside the batch's transaction. */
export interface PgWrite {
  /** Writes with the same key replace each other while they wait (an upsert needs only its newest value). */
  key: string | null;
  statements: readonly { text: string; values: readonly unknown[] }[];
  describe: string;
}

/** What the queue needs from a connection: one transaction at a time. */
export interface PgTransactor {
  /** Runs `writes` in one transaction, each inside a savepoint when `isolate`; rejects on failure. */
  run(writes: readonly PgWrite[], isolate: boolean): Promise<{ dropped: readonly number[] }>;
}

export interface PgWriteQueueOptions {
  transactor: PgTransactor;
  /** True when the error comes from the server being away (connection, shutdown), not from the data. */
  isEnvironmental(error: unknown): boolean;
  logger: Logger;
  now: () => number;
  pendingCap?: number;
  retryInitialMs?: number;
  retryMaxMs?: number;
}

/**
 * The PostgreSQL store's writes: those of one event-loop turn share a
 * transaction; while the server is away they wait in a bounded queue (keyed
 * upserts replace each other, appends keep their order) and are replayed in
 * order once a retry succeeds. Callers' promises resolve when their write is
 * committed or parked; they never reject.
 */
export class PgWriteQueue {
  #queue: { write: PgWrite; resolve: () => void }[] = [];
  #scheduled = false;
  readonly #pending = new Map<string, PgWrite>();
  #appendSeq = 0;
  #writable = true;
  #lastError: string | null = null;
  #lastErrorAt: number | null = null;
  #dropped = 0;
  #retryDelay: number;
  #retryTimer: NodeJS.Timeout | null = null;
  /** The flush or retry in progress: one transaction at a time, in order. */
  #busy: Promise<void> = Promise.resolve();
  #stopped = false;
  readonly #listeners = new Set<(health: StoreHealth) => void>();
  readonly #opts: PgWriteQueueOptions;
  readonly #cap: number;
  readonly #retryInitialMs: number;
  readonly #retryMaxMs: number;

  constructor(opts: PgWriteQueueOptions) {
    this.#opts = opts;
    this.#cap = opts.pendingCap ?? 10_000;
    this.#retryInitialMs = opts.retryInitialMs ?? 250;
    this.#retryMaxMs = opts.retryMaxMs ?? 5_000;
    this.#retryDelay = this.#retryInitialMs;
  }

  enqueue(write: PgWrite): Promise<void> {
    return new Promise((resolve) => {
      this.#queue.push({ write, resolve });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  /** Commits (or parks) everything queued so far; resolves when done. */
  flush(): Promise<void> {
    this.#scheduled = false;
    this.#busy = this.#busy.then(async () => {
      // Taken when the transaction starts, not when it was asked for: what queued while the
      // previous one ran goes in one transaction. Taken at the call, a loaded writer (twenty
      // forwarders) ran a queue of small transactions back to back, each batch waiting behind
      // the others' (250 a second of 2-3 writes each; 15-30 ms of waiting per batch).
      const batch = this.#queue;
      this.#queue = [];
      if (batch.length > 0) {
        const writes = batch.map((q) => q.write);
        // Pending writes go first: a newer write must not land before an older one.
        if (this.#writable && this.#pending.size === 0) await this.#write(writes);
        else this.#park(writes);
      }
      for (const q of batch) q.resolve();
    });
    return this.#busy;
  }

  health(): StoreHealth {
    return {
      writable: this.#writable,
      lastError: this.#lastError,
      pending: this.#pending.size,
      dropped: this.#dropped,
      lastErrorAt: this.#lastErrorAt,
    };
  }

  onHealthChange(listener: (health: StoreHealth) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Replays the pending writes now; resolves true when none are left. */
  retry(): Promise<boolean> {
    this.#clearTimer();
    const done = this.#busy.then(() => this.#replay());
    this.#busy = done.then(() => undefined);
    return done;
  }

  stop(): void {
    this.#stopped = true;
    this.#clearTimer();
  }

  async #replay(): Promise<boolean> {
    while (this.#pending.size > 0) {
      const chunk = [...this.#pending].slice(0, 500);
      const handled = await this.#try(chunk.map(([, write]) => write));
      for (let i = 0; i < handled; i++) this.#pending.delete((chunk[i] as [string, PgWrite])[0]);
      if (handled < chunk.length) {
        this.#scheduleRetry();
        return false;
      }
    }
    this.#recover();
    return true;
  }

  async #write(writes: PgWrite[]): Promise<void> {
    const handled = await this.#try(writes);
    if (handled < writes.length) this.#park(writes.slice(handled));
  }

  /** Writes in one transaction, or per savepoint when one is invalid; returns how many were handled. */
  async #try(writes: PgWrite[]): Promise<number> {
    try {
      await this.#opts.transactor.run(writes, false);
      return writes.length;
    } catch (error) {
      if (this.#opts.isEnvironmental(error)) {
        this.#fail(error);
        return 0;
      }
    }
    try {
      const { dropped } = await this.#opts.transactor.run(writes, true);
      for (const i of dropped) {
        this.#opts.logger.warn(
          `history store: dropped an invalid write (${(writes[i] as PgWrite).describe})`,
        );
      }
      return writes.length;
    } catch (error) {
      this.#fail(error);
      return 0;
    }
  }

  #park(writes: PgWrite[]): void {
    for (const write of writes) this.#pending.set(write.key ?? `#${this.#appendSeq++}`, write);
    while (this.#pending.size > this.#cap) {
      this.#pending.delete(this.#pending.keys().next().value as string);
      if (this.#dropped++ === 0) {
        this.#opts.logger.error(
          `history store: pending write queue is full (${this.#cap}); dropping the oldest writes`,
        );
      }
    }
    this.#scheduleRetry();
  }

  #fail(error: unknown): void {
    this.#lastError = error instanceof Error ? error.message : String(error);
    this.#lastErrorAt = this.#opts.now();
    if (!this.#writable) return;
    this.#writable = false;
    this.#opts.logger.error(
      `history store: cannot write to PostgreSQL (${this.#lastError}); keeping up to ${this.#cap} writes in memory and retrying`,
    );
    this.#emit();
  }

  #recover(): void {
    this.#retryDelay = this.#retryInitialMs;
    if (this.#writable) return;
    this.#writable = true;
    this.#lastError = null;
    this.#opts.logger.info(
      { dropped: this.#dropped },
      'history store: PostgreSQL is back; pending writes replayed',
    );
    this.#emit();
  }

  #scheduleRetry(): void {
    if (this.#stopped || this.#retryTimer || this.#pending.size === 0) return;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      void this.retry();
    }, this.#retryDelay);
    this.#retryTimer.unref();
    this.#retryDelay = Math.min(this.#retryDelay * 2, this.#retryMaxMs);
  }

  #clearTimer(): void {
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
  }

  #emit(): void {
    const health = this.health();
    for (const listener of this.#listeners) {
      try {
        listener(health);
      } catch (error) {
        this.#opts.logger.warn({ err: String(error) }, 'history store: health listener threw');
      }
    }
  }
}
