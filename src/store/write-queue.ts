import type { Logger } from 'pino';
import type { StoreHealth } from './types.ts';

/** One queued write. `apply` runs its statements and throws when they fail. */
export interface WriteOp {
  /**
   * Writes with the same key replace each other while they wait in the
   * pending queue (an upsert only needs its newest value); null for appends.
   */
  key: string | null;
  apply(): void;
  /** For log lines: what was lost when a write is rejected as invalid. */
  describe: string;
}

export interface WriteQueueOptions {
  /** Runs `fn` in one transaction; on failure rolls back and rethrows. */
  transaction(fn: () => void): void;
  /** True when the error comes from the environment (disk, locks), not from the data. */
  isEnvironmental(error: unknown): boolean;
  describeError(error: unknown): string;
  logger: Logger;
  now: () => number;
  /** Most writes kept while the store fails (default 10,000). */
  pendingCap?: number;
  /** First retry delay, doubled up to `retryMaxMs` (defaults 250 ms and 30 s). */
  retryInitialMs?: number;
  retryMaxMs?: number;
}

interface Queued {
  op: WriteOp;
  resolve: () => void;
}

/** Writes replayed from the pending queue per transaction. */
const REPLAY_CHUNK = 500;

/**
 * Groups the writes of one event-loop turn into one transaction, and keeps
 * writes the database refuses (disk full, read-only, I/O error) in a bounded
 * queue that is replayed, in order, once a retry succeeds. Callers' promises
 * resolve when their write is committed or parked; they never reject.
 */
export class WriteQueue {
  private queue: Queued[] = [];
  private scheduled = false;
  private readonly pending = new Map<string, WriteOp>();
  private appendSeq = 0;
  private writable = true;
  private lastError: string | null = null;
  private lastErrorAt: number | null = null;
  private dropped = 0;
  private droppedThisEpisode = false;
  private retryDelay: number;
  private retryTimer: NodeJS.Timeout | null = null;
  private readonly listeners = new Set<(health: StoreHealth) => void>();
  private readonly cap: number;
  private readonly retryInitialMs: number;
  private readonly retryMaxMs: number;

  constructor(private readonly opts: WriteQueueOptions) {
    this.cap = opts.pendingCap ?? 10_000;
    this.retryInitialMs = opts.retryInitialMs ?? 250;
    this.retryMaxMs = opts.retryMaxMs ?? 30_000;
    this.retryDelay = this.retryInitialMs;
  }

  enqueue(op: WriteOp): Promise<void> {
    return new Promise((resolve) => {
      this.queue.push({ op, resolve });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Writes everything queued now, in one transaction. Synchronous. */
  flush(): void {
    this.scheduled = false;
    if (this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    const ops = batch.map((q) => q.op);
    if (this.writable) this.write(ops);
    else this.park(ops);
    for (const q of batch) q.resolve();
  }

  health(): StoreHealth {
    return {
      writable: this.writable,
      lastError: this.lastError,
      pending: this.pending.size,
      dropped: this.dropped,
      lastErrorAt: this.lastErrorAt,
    };
  }

  onHealthChange(listener: (health: StoreHealth) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Replays the pending queue now; true when nothing is left pending. */
  retry(): boolean {
    this.clearTimer();
    if (this.pending.size === 0) return true;
    while (this.pending.size > 0) {
      const chunk: [string, WriteOp][] = [];
      for (const entry of this.pending) {
        chunk.push(entry);
        if (chunk.length === REPLAY_CHUNK) break;
      }
      const written = this.tryOps(chunk.map(([, op]) => op));
      for (let i = 0; i < written; i++) this.pending.delete((chunk[i] as [string, WriteOp])[0]);
      if (written < chunk.length) {
        this.scheduleRetry();
        return false;
      }
    }
    this.recover();
    return true;
  }

  /** Stops retrying; what is still pending stays in `health().pending`. */
  stop(): void {
    this.clearTimer();
  }

  private write(ops: WriteOp[]): void {
    const written = this.tryOps(ops);
    if (written < ops.length) this.park(ops.slice(written));
  }

  /**
   * Writes `ops` in one transaction; when that fails on the data, writes them
   * one by one and drops the invalid ones. Returns how many ops were handled
   * (written or dropped); the rest hit an environmental failure.
   */
  private tryOps(ops: WriteOp[]): number {
    try {
      this.opts.transaction(() => {
        for (const op of ops) op.apply();
      });
      return ops.length;
    } catch (error) {
      if (this.opts.isEnvironmental(error)) {
        this.fail(error);
        return 0;
      }
    }
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i] as WriteOp;
      try {
        this.opts.transaction(() => op.apply());
      } catch (error) {
        if (this.opts.isEnvironmental(error)) {
          this.fail(error);
          return i;
        }
        this.opts.logger.warn(
          { err: this.opts.describeError(error) },
          `history store: dropped an invalid write (${op.describe})`,
        );
      }
    }
    return ops.length;
  }

  private park(ops: WriteOp[]): void {
    for (const op of ops) {
      const key = op.key ?? `#${this.appendSeq++}`;
      // Map.set on an existing key keeps its place, so order is preserved.
      this.pending.set(key, op);
    }
    while (this.pending.size > this.cap) {
      const oldest = this.pending.keys().next().value as string;
      this.pending.delete(oldest);
      this.dropped++;
      if (!this.droppedThisEpisode) {
        this.droppedThisEpisode = true;
        this.opts.logger.error(
          `history store: pending write queue is full (${this.cap}); dropping the oldest writes`,
        );
      }
    }
    this.scheduleRetry();
  }

  private fail(error: unknown): void {
    this.lastError = this.opts.describeError(error);
    this.lastErrorAt = this.opts.now();
    if (!this.writable) return;
    this.writable = false;
    this.opts.logger.error(
      `history store: cannot write (${this.lastError}); keeping up to ${this.cap} writes in memory and retrying`,
    );
    this.emit();
  }

  private recover(): void {
    this.retryDelay = this.retryInitialMs;
    if (this.writable) return;
    this.writable = true;
    this.lastError = null;
    this.opts.logger.info(
      { dropped: this.dropped },
      'history store: writable again; pending writes replayed',
    );
    this.droppedThisEpisode = false;
    this.emit();
  }

  private scheduleRetry(): void {
    if (this.retryTimer || this.pending.size === 0) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.retry();
    }, this.retryDelay);
    this.retryTimer.unref();
    this.retryDelay = Math.min(this.retryDelay * 2, this.retryMaxMs);
  }

  private clearTimer(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  private emit(): void {
    const health = this.health();
    for (const listener of this.listeners) {
      try {
        listener(health);
      } catch (error) {
        this.opts.logger.warn({ err: String(error) }, 'history store: health listener threw');
      }
    }
  }
}
