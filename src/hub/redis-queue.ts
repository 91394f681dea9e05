/**
 * Bounds of what a Redis bus writer keeps queued for Redis: appends sent (or
 * waiting for the connection in the client) and not yet acknowledged.
 */
export interface QueueLimits {
  /** Encoded deltas plus the topic states sent with them. */
  maxBytes: number;
  maxDeltas: number;
}

/**
 * 8 MiB, and half the log Stream's length: a backlog that size, once sent,
 * is still in the Stream when the followers read it.
 */
export const DEFAULT_QUEUE_LIMITS: QueueLimits = { maxBytes: 8 * 1024 * 1024, maxDeltas: 5_000 };

/** For /metrics and tests: what the writer holds for Redis. */
export interface QueueStats {
  /** Appends sent and not yet acknowledged. */
  deltas: number;
  bytes: number;
  /** Topics whose deltas stopped being queued: they are sent whole once there is room. */
  outOfStep: number;
  /** Deltas not queued because the queue was full (their topics went out of step instead). */
  keptOut: number;
}

/** A topic's newest state (null: removed) while it is out of step. */
export interface LatestState {
  version: number;
  data: unknown;
}

/**
 * The writer's queue for Redis, bounded. While Redis is away (a restart, the
 * network) appends wait in the client; past `limits` no more deltas are
 * queued: their topics are marked out of step and only each one's newest
 * state is kept (the hub holds it anyway, so this costs no more memory
 * however long the outage). Once the queue has drained to half its bounds
 * the writer sends those states whole (a root replace, which clients and
 * replicas apply whatever version they hold), and a topic is back in step.
 */
export class WriteQueue {
  readonly #limits: QueueLimits;
  readonly #latest = new Map<string, LatestState>();
  #deltas = 0;
  #bytes = 0;
  #keptOut = 0;

  constructor(limits: Partial<QueueLimits> = {}) {
    this.#limits = { ...DEFAULT_QUEUE_LIMITS, ...limits };
  }

  get limits(): QueueLimits {
    return this.#limits;
  }

  get stats(): QueueStats {
    return {
      deltas: this.#deltas,
      bytes: this.#bytes,
      outOfStep: this.#latest.size,
      keptOut: this.#keptOut,
    };
  }

  get full(): boolean {
    return this.#deltas >= this.#limits.maxDeltas || this.#bytes >= this.#limits.maxBytes;
  }

  /** Room to send out-of-step topics again: half the bounds, so it does not flap at the edge. */
  get roomy(): boolean {
    return this.#deltas <= this.#limits.maxDeltas / 2 && this.#bytes <= this.#limits.maxBytes / 2;
  }

  get inStep(): boolean {
    return this.#latest.size === 0;
  }

  /** Whether a change to `topic` must not be queued as a delta (see the class comment). */
  keepsOut(topic: string): boolean {
    return this.#latest.has(topic) || this.full;
  }

  /** Keeps a topic's newest state instead of its delta; true when the queue just went out of step. */
  keepOut(topic: string, state: LatestState): boolean {
    const first = this.#latest.size === 0;
    // Re-inserted: the topic kept out longest is sent first.
    this.#latest.delete(topic);
    this.#latest.set(topic, state);
    this.#keptOut++;
    return first;
  }

  /** The next out-of-step topic to send whole, taken off the list; null when there is none. */
  next(): [string, LatestState] | null {
    const first = this.#latest.entries().next();
    if (first.done) return null;
    this.#latest.delete(first.value[0]);
    return first.value;
  }

  sent(bytes: number): void {
    this.#deltas++;
    this.#bytes += bytes;
  }

  settled(bytes: number): void {
    this.#deltas--;
    this.#bytes -= bytes;
  }
}
