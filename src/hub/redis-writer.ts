import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { DeltaMessage } from '../shared/protocol.ts';
import type { DeltaCodec } from './fanout.ts';
import { type keysOf, type LostReason, reasonOf, type Scripts, wholeState } from './redis-keys.ts';
import { type LatestState, type QueueLimits, type QueueStats, WriteQueue } from './redis-queue.ts';
import { BusAwayError, type Change, type TopicState } from './types.ts';

/**
 * A topic's whole state goes to Redis at most this often; the deltas between
 * go to the log only. A log topic's state is its last 1000 lines: written on
 * every appended line it cost ~100 KB per line, the writer's main cost.
 */
export const STATE_EVERY_MS = 250;

/** How long `flush` waits for Redis's acknowledgement before saying it is away. */
export const ACK_WAIT_MS = 10_000;

/** What the writer half needs of its bus. */
export interface WriterHost {
  readonly redis: Redis & Scripts;
  readonly id: string;
  readonly keys: ReturnType<typeof keysOf>;
  readonly epoch: string;
  readonly leaseMs: number;
  /** The log Stream's MAXLEN. */
  readonly maxLen: number;
  readonly codec: DeltaCodec;
  readonly logger: Logger;
  readonly queue?: Partial<QueueLimits> | undefined;
  /** Whether this replica still holds the lease: only then do its appends reach its clients. */
  writing(): boolean;
  /** An append Redis acknowledged, in seq order. */
  acknowledged(delta: DeltaMessage): void;
  fail(reason: LostReason, error: unknown): void;
}

/**
 * The Redis bus's writer half: gives each change the next seq, appends it
 * with `PUBLISH` (its topic's state at most every `STATE_EVERY_MS`, the rest
 * on a timer with `STATE`), and keeps what waits for Redis within the
 * `WriteQueue`'s bounds: past them a changed topic is out of step until it
 * is sent whole (see `WriteQueue`).
 */
export class RedisWriter {
  readonly #host: WriterHost;
  readonly #queue: WriteQueue;
  /** When each topic's state was last sent whole; states held back, to send on the timer. */
  readonly #stateSentAt = new Map<string, number>();
  readonly #heldStates = new Map<string, TopicState>();
  #stateTimer: NodeJS.Timeout | null = null;
  #pending: Promise<unknown> = Promise.resolve();
  #stopped = false;
  /** The last seq handed out. */
  seq = 0;

  constructor(host: WriterHost) {
    this.#host = host;
    this.#queue = new WriteQueue(host.queue);
  }

  get stats(): QueueStats {
    return this.#queue.stats;
  }

  /** Settles once every append sent so far is acknowledged (or failed). */
  get pending(): Promise<unknown> {
    return this.#pending;
  }

  publish(change: Change, state: TopicState | null): DeltaMessage {
    if (this.#queue.keepsOut(change.topic)) {
      this.#keepOut(change, state);
      // No seq of its own: the topic's next append is its whole state, under a new seq.
      return { ...change, seq: this.seq } as DeltaMessage;
    }
    const delta = { ...change, seq: ++this.seq } as DeltaMessage;
    this.#append(delta, this.#stateText(delta, state));
    return delta;
  }

  /**
   * Waits until every delta published so far is acknowledged by Redis (or
   * failed). Throws `BusAwayError` instead of waiting on a Redis that is
   * away: at once while it is unreachable with appends outstanding or while
   * topics are out of step (their changes are not in the log yet), else after
   * `ACK_WAIT_MS`. An acknowledgement then says "retry", and the requests of
   * a long outage do not pile up in memory, each holding its body.
   */
  async flush(): Promise<void> {
    const unreachable = this.#host.redis.status !== 'ready' && this.#queue.stats.deltas > 0;
    if (!this.#queue.inStep || unreachable) throw this.#awayError();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), ACK_WAIT_MS);
      timer.unref();
    });
    try {
      if ((await Promise.race([this.#pending, late])) === 'late') throw this.#awayError();
    } finally {
      clearTimeout(timer);
    }
    if (this.#host.writing() && !this.#queue.inStep) throw this.#awayError();
  }

  /** Sends what is held back and out of step, whatever the bounds: the next writer starts from it. */
  async close(): Promise<void> {
    this.#stopped = true;
    if (this.#stateTimer) clearTimeout(this.#stateTimer);
    this.#sendHeldStates(true);
    this.#resend(true);
    await this.#pending;
  }

  /** Stops the timer without sending (a replica that is no longer the writer). */
  stop(): void {
    this.#stopped = true;
    if (this.#stateTimer) clearTimeout(this.#stateTimer);
  }

  #awayError(): BusAwayError {
    const { deltas, bytes, outOfStep } = this.#queue.stats;
    return new BusAwayError(
      `Redis is not taking the bus's writes (${this.#host.redis.status}; ${deltas} appends, ${Math.ceil(bytes / 1024)} KiB waiting, ${outOfStep} topics out of step)`,
    );
  }

  /** Sends one delta (and the state text `PUBLISH` takes) to Redis, counted in the queue. */
  #append(delta: DeltaMessage, stateText: string): void {
    const h = this.#host;
    const bytes = h.codec.encode(delta);
    // UTF-16 units for the state: about its bytes, without encoding it twice.
    const cost = bytes.byteLength + stateText.length;
    const k = h.keys;
    this.#queue.sent(cost);
    const written = h.redis.lsPublish(
      k.lease,
      k.epoch,
      k.seq,
      k.log,
      k.state,
      h.id,
      h.leaseMs,
      h.epoch,
      delta.seq,
      h.maxLen,
      delta.topic,
      Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
      stateText,
    );
    // Replies come back in order on one connection: the mirror gets the writer's deltas in seq order.
    this.#pending = written.then(
      () => {
        this.#queue.settled(cost);
        if (h.writing()) h.acknowledged(delta);
        this.#resend();
      },
      (error: unknown) => h.fail(reasonOf(error), error),
    );
  }

  /** A change not queued (the queue is full, or its topic already out of step). */
  #keepOut(change: Change, state: TopicState | null): void {
    // Its whole state goes with the resend: a held one is older.
    this.#heldStates.delete(change.topic);
    const latest: LatestState = { version: change.version, data: state?.data ?? null };
    if (this.#queue.keepOut(change.topic, latest)) {
      this.#host.logger.warn(
        { ...this.#queue.stats, limits: this.#queue.limits },
        'redis bus: the queue for Redis is full (Redis away or slow); changes are no longer queued, each changed topic is sent whole once Redis takes appends again',
      );
    }
    // Nothing in flight would call it: a topic kept out while the queue has room.
    if (this.#queue.roomy) queueMicrotask(() => this.#resend());
  }

  /**
   * Sends the out-of-step topics whole, oldest first, while the queue has
   * room (all of them when `force`): each is a root replace under the next
   * seq, with its state for the hash, so every replica and client that
   * missed its deltas takes it as it is now.
   */
  #resend(force = false): void {
    if (!this.#host.writing() || this.#queue.inStep || !(force || this.#queue.roomy)) return;
    do {
      const next = this.#queue.next();
      if (!next) break;
      const [topic, latest] = next;
      const whole = { version: latest.version, seq: ++this.seq, data: latest.data };
      if (latest.data === null) this.#stateSentAt.delete(topic);
      else this.#stateSentAt.set(topic, Date.now());
      this.#append(wholeState(topic, whole), latest.data === null ? '' : JSON.stringify(whole));
    } while (force || !this.#queue.full);
    if (!this.#queue.inStep) return;
    this.#host.logger.info(
      { seq: this.seq, keptOut: this.#queue.stats.keptOut },
      'redis bus: back in step; the topics changed meanwhile were sent whole',
    );
  }

  /** The state to store with a delta: whole now, or held back ('-') and sent on the timer. */
  #stateText(delta: DeltaMessage, state: TopicState | null): string {
    if (state === null) {
      this.#stateSentAt.delete(delta.topic);
      this.#heldStates.delete(delta.topic);
      return '';
    }
    const whole = { version: delta.version, seq: delta.seq, data: state.data };
    const now = Date.now();
    const sentAt = this.#stateSentAt.get(delta.topic);
    if (sentAt === undefined || now - sentAt >= STATE_EVERY_MS) {
      this.#stateSentAt.set(delta.topic, now);
      this.#heldStates.delete(delta.topic);
      return JSON.stringify(whole);
    }
    this.#heldStates.set(delta.topic, whole);
    this.#armStateTimer();
    return '-';
  }

  #armStateTimer(): void {
    if (this.#stateTimer !== null || this.#stopped) return;
    this.#stateTimer = setTimeout(() => this.#sendHeldStates(), STATE_EVERY_MS);
    this.#stateTimer.unref();
  }

  #sendHeldStates(force = false): void {
    this.#stateTimer = null;
    if (!this.#host.writing()) return;
    const { redis, keys, id } = this.#host;
    const now = Date.now();
    for (const [topic, whole] of this.#heldStates) {
      // The rest are kept (one per topic) until Redis takes writes again.
      if (this.#queue.full && !force) break;
      this.#heldStates.delete(topic);
      this.#stateSentAt.set(topic, now);
      const text = JSON.stringify(whole);
      this.#queue.sent(text.length);
      const sent = redis.lsState(keys.lease, keys.state, id, topic, text).then(() => {
        this.#queue.settled(text.length);
        this.#resend();
      });
      this.#pending = Promise.all([this.#pending, sent]).then(
        () => undefined,
        (error: unknown) => this.#host.fail(reasonOf(error), error),
      );
    }
    if (this.#heldStates.size > 0) this.#armStateTimer();
  }
}
