import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { DeltaMessage } from '../shared/protocol.ts';
import {
  DEFAULT_REPLAY_LIMITS,
  type DeltaCodec,
  InProcessBus,
  type ReplayLimits,
} from './fanout.ts';
import {
  field,
  keysOf,
  type LostReason,
  reasonOf,
  type Scripts,
  type StreamEntry,
  wholeState,
  withTimeout,
} from './redis-keys.ts';
import { ACQUIRE, PUBLISH, RELEASE, STATE } from './redis-scripts.ts';
import type { Bus, Change, DeltaListener, ReplayStats, TopicState } from './types.ts';

/** How long a writer lease lasts unrenewed: a dead writer is replaced after about this long. */
export const DEFAULT_LEASE_MS = 10_000;

/**
 * A topic's whole state goes to Redis at most this often; the deltas between
 * go to the log only. A log topic's state is its last 1000 lines: written on
 * every appended line it cost ~100 KB per line, the writer's main cost.
 */
export const STATE_EVERY_MS = 250;

export interface RedisBusOptions {
  codec: DeltaCodec;
  logger: Logger;
  /** Writer lease (and presence) time to live; renewed every third of it. */
  leaseMs?: number;
  /** Key prefix, so several dashboards can share one Redis. */
  prefix?: string;
  limits?: Partial<ReplayLimits>;
}

export type { LostReason } from './redis-keys.ts';

/**
 * `--bus redis://…`: the shared sequence, replay log and fan-out of several
 * replicas in one Redis.
 *
 * - **One writer at a time.** A replica writes only while it holds the lease
 *   (an expiring key it renews). The writer assigns seqs itself, so `publish`
 *   stays synchronous, and appends each delta with one Lua script (XADD to
 *   the log Stream, bounded by MAXLEN, + HSET of the topic's whole state, at
 *   most every `STATE_EVERY_MS` per topic)
 *   that refuses a replica without the lease or a seq out of order: two
 *   writers can never both write, so versions and patches never fork.
 * - **Every replica mirrors the Stream** (XREAD, blocking) into an in-process
 *   bus, in seq order: its clients get the deltas from there and `resume`
 *   replays from there, the same seqs on every replica. The writer delivers
 *   its own deltas once Redis acknowledged them, so a seq a client holds is
 *   never handed out again by a writer that takes over.
 * - **A replica that joins** reads the Stream and the state hash in one
 *   transaction: the hub gets every topic's state, caught up with the log
 *   entries newer than it, and the mirror gets the log.
 * - **Presence**: each replica keeps an expiring key listing the topics its
 *   clients follow; `hasListeners` covers them all (refreshed each renewal).
 *
 * A bus whose history no longer lines up (lease taken by another replica,
 * Redis lost its data, the Stream trimmed past what this replica read)
 * reports it through `onLost` and takes no more writes: its owner builds a
 * fresh replica from Redis rather than patching a state that may differ.
 */
export class RedisBus implements Bus {
  readonly id = crypto.randomUUID();
  readonly #redis: Redis & Scripts;
  readonly #reader: Redis;
  readonly #mirror: InProcessBus;
  readonly #codec: DeltaCodec;
  readonly #logger: Logger;
  readonly #keys: ReturnType<typeof keysOf>;
  readonly #leaseMs: number;
  readonly #maxLen: number;
  readonly #followers = new Set<DeltaListener>();
  readonly #writerListeners = new Set<() => void>();
  readonly #lostListeners = new Set<(reason: LostReason) => void>();
  #epoch: string;
  #seed: Map<string, TopicState> | null;
  /** Log deltas newer than their topic's stored state: the seed catches up with them. */
  #catchUp: DeltaMessage[] = [];
  /** When each topic's state was last sent whole; states held back, to send on the timer. */
  readonly #stateSentAt = new Map<string, number>();
  readonly #heldStates = new Map<string, TopicState>();
  #stateTimer: NodeJS.Timeout | null = null;
  #lastId: string;
  #role: 'follower' | 'promoting' | 'writer' | 'lost' = 'follower';
  #assigned = 0;
  #remoteTopics = new Set<string>();
  #writerId: string | null = null;
  #writerUrl: string | null = null;
  #url: string | null = null;
  #pending: Promise<unknown> = Promise.resolve();
  #timer: NodeJS.Timeout | null = null;
  #closed = false;
  #ticking = false;
  #reading: Promise<void> = Promise.resolve();

  private constructor(
    redis: Redis,
    options: RedisBusOptions,
    start: {
      epoch: string;
      replicaKey: string;
      seq: number;
      log: StreamEntry[];
      state: Record<string, string>;
    },
  ) {
    this.#redis = redis as Redis & Scripts;
    this.#reader = redis.duplicate();
    this.#reader.on('error', (error: Error) =>
      options.logger.warn(
        { err: { message: error.message } },
        'redis bus: reader connection error',
      ),
    );
    this.#codec = options.codec;
    this.#logger = options.logger;
    this.#keys = keysOf(options.prefix ?? 'livestream:');
    this.#leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    const limits = { ...DEFAULT_REPLAY_LIMITS, ...options.limits };
    this.#maxLen = limits.maxDeltas;
    this.#epoch = start.epoch;
    this.replicaKey = start.replicaKey;
    this.#mirror = new InProcessBus({ epoch: start.epoch, codec: options.codec, limits });
    this.#seed = new Map();
    for (const [topic, text] of Object.entries(start.state)) {
      this.#seed.set(topic, JSON.parse(text) as TopicState);
    }
    for (const [, fields] of start.log) {
      const bytes = field(fields, 'd');
      if (!bytes) continue;
      const delta = this.#codec.decode(bytes);
      this.#mirror.accept(delta);
      // A topic missing from the states was removed: its older deltas are history.
      const seed = this.#seed.get(delta.topic);
      if (seed && delta.seq > seed.seq) this.#catchUp.push(delta);
    }
    this.#lastId = `${start.seq}-0`;
  }

  /**
   * Connects, joins (or starts) the shared sequence and reads its state; the
   * bus follows the Stream from there. The lease is tried at once: `isWriter`
   * says whether this replica got it.
   */
  static async open(url: string, options: RedisBusOptions): Promise<RedisBus> {
    const keys = keysOf(options.prefix ?? 'livestream:');
    // Commands wait through a Redis restart instead of failing: order is kept.
    const redis = new Redis(url, { maxRetriesPerRequest: null, lazyConnect: true });
    redis.on('error', (error: Error) =>
      options.logger.warn({ err: { message: error.message } }, 'redis bus: connection error'),
    );
    redis.defineCommand('lsAcquire', { numberOfKeys: 2, lua: ACQUIRE });
    redis.defineCommand('lsPublish', { numberOfKeys: 5, lua: PUBLISH });
    redis.defineCommand('lsRelease', { numberOfKeys: 1, lua: RELEASE });
    redis.defineCommand('lsState', { numberOfKeys: 2, lua: STATE });
    try {
      await redis.connect();
      await redis.set(keys.epoch, crypto.randomUUID(), 'NX');
      await redis.set(keys.replicaKey, crypto.randomUUID(), 'NX');
      // One transaction: the log and the states describe the same seq.
      const results = await redis
        .multi()
        .get(keys.epoch)
        .get(keys.replicaKey)
        .get(keys.seq)
        .xrangeBuffer(keys.log, '-', '+')
        .hgetall(keys.state)
        .exec();
      if (!results) throw new Error('redis bus: the start-up transaction was aborted');
      for (const [error] of results) if (error) throw error;
      const [epoch, replicaKey, seq, log, state] = results.map(([, value]) => value) as [
        string,
        string,
        string | null,
        StreamEntry[],
        Record<string, string>,
      ];
      const bus = new RedisBus(redis, options, {
        epoch,
        replicaKey,
        seq: Number(seq ?? 0),
        log,
        state,
      });
      await bus.#tick();
      bus.#reading = bus.#read();
      bus.#timer = setInterval(
        () => {
          // While Redis is away a tick waits in the client's queue: one is enough.
          if (bus.#ticking) return;
          bus.#ticking = true;
          bus
            .#tick()
            .catch((error: unknown) => bus.#fail('error', error))
            .finally(() => {
              bus.#ticking = false;
            });
        },
        Math.max(50, Math.floor(bus.#leaseMs / 3)),
      );
      bus.#timer.unref();
      return bus;
    } catch (error) {
      redis.disconnect();
      throw error;
    }
  }

  /**
   * A secret every replica of this deployment reads from Redis: a follower
   * shows it on the requests it passes to the writer (see `REPLICA_HEADER`).
   */
  readonly replicaKey: string;

  get epoch(): string {
    return this.#epoch;
  }

  get seq(): number {
    return this.#mirror.seq;
  }

  get replayStats(): ReplayStats {
    return this.#mirror.replayStats;
  }

  /** Whether this replica holds the lease and may publish. */
  get isWriter(): boolean {
    return this.#role === 'writer';
  }

  /** The writer's advertised URL (null while unknown): where followers send writes. */
  get writerUrl(): string | null {
    return this.#writerId === this.id ? this.#url : this.#writerUrl;
  }

  /** Announces where this replica listens, so followers can send the writer's requests there. */
  advertise(url: string): void {
    this.#url = url;
    this.#tick().catch((error: unknown) => this.#fail('error', error));
  }

  /** Called once when this replica becomes the writer. */
  onWriter(listener: () => void): () => void {
    this.#writerListeners.add(listener);
    return () => this.#writerListeners.delete(listener);
  }

  /** Called once when the bus can no longer be trusted (see the class comment). */
  onLost(listener: (reason: LostReason) => void): () => void {
    this.#lostListeners.add(listener);
    return () => this.#lostListeners.delete(listener);
  }

  publish(change: Change, state: TopicState | null): DeltaMessage {
    if (this.#role === 'lost') {
      // The owner is replacing this replica; what its engines still produce is not shared.
      return { ...change, seq: this.#assigned } as DeltaMessage;
    }
    if (this.#role !== 'writer') {
      throw new Error('redis bus: this replica does not hold the writer lease');
    }
    const delta = { ...change, seq: ++this.#assigned } as DeltaMessage;
    const bytes = this.#codec.encode(delta);
    const stateText = this.#stateText(delta, state);
    const k = this.#keys;
    const written = this.#redis.lsPublish(
      k.lease,
      k.epoch,
      k.seq,
      k.log,
      k.state,
      this.id,
      this.#leaseMs,
      this.#epoch,
      delta.seq,
      this.#maxLen,
      delta.topic,
      Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
      stateText,
    );
    // Replies come back in order on one connection: the mirror gets the writer's deltas in seq order.
    this.#pending = written.then(
      () => {
        if (this.#role === 'writer') this.#mirror.accept(delta);
      },
      (error: unknown) => this.#fail(reasonOf(error), error),
    );
    return delta;
  }

  since(seq: number, topics: ReadonlySet<string>): DeltaMessage[] | null {
    return this.#mirror.since(seq, topics);
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
    if (this.#stateTimer === null) {
      this.#stateTimer = setTimeout(() => this.#sendHeldStates(), STATE_EVERY_MS);
      this.#stateTimer.unref();
    }
    return '-';
  }

  #sendHeldStates(): void {
    this.#stateTimer = null;
    if (this.#role !== 'writer') return;
    const now = Date.now();
    for (const [topic, whole] of this.#heldStates) {
      this.#stateSentAt.set(topic, now);
      const sent = this.#redis.lsState(
        this.#keys.lease,
        this.#keys.state,
        this.id,
        topic,
        JSON.stringify(whole),
      );
      this.#pending = Promise.all([this.#pending, sent]).then(
        () => undefined,
        (error: unknown) => this.#fail(reasonOf(error), error),
      );
    }
    this.#heldStates.clear();
  }

  follow(apply: DeltaListener): () => void {
    // The states read at start-up go to the first follower (the hub), then are let go.
    if (this.#seed) {
      for (const [topic, state] of this.#seed) apply(wholeState(topic, state));
      for (const delta of this.#catchUp) apply(delta);
      this.#seed = null;
      this.#catchUp = [];
    }
    this.#followers.add(apply);
    return () => this.#followers.delete(apply);
  }

  subscribe(topic: string, listener: DeltaListener): () => void {
    return this.#mirror.subscribe(topic, listener);
  }

  subscribeAll(listener: DeltaListener): () => void {
    return this.#mirror.subscribeAll(listener);
  }

  hasListeners(topic: string): boolean {
    return this.#mirror.hasListeners(topic) || this.#remoteTopics.has(topic);
  }

  /** Waits until every delta published so far is acknowledged by Redis (or failed). */
  async flush(): Promise<void> {
    await this.#pending;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    if (this.#stateTimer) clearTimeout(this.#stateTimer);
    try {
      if (this.#role === 'writer') {
        // The held states go before the lease does: the next writer starts from them.
        this.#sendHeldStates();
        await this.#pending;
        // Handing the lease back lets another replica take over now, not a lease later.
        await withTimeout(this.#redis.lsRelease(this.#keys.lease, this.id), 1000);
      }
      await withTimeout(this.#redis.del(this.#keys.replica(this.id)), 1000);
    } catch (error) {
      this.#logger.debug({ err: error }, 'redis bus: could not release on close');
    }
    this.#reader.disconnect();
    this.#redis.disconnect();
    await this.#reading;
  }

  /** Renews (or tries to take) the lease, announces presence, reads the others'. */
  async #tick(): Promise<void> {
    if (this.#closed || this.#role === 'lost') return;
    const k = this.#keys;
    const now = Date.now();
    const presence = JSON.stringify({ url: this.#url, topics: [...this.#mirror.listenedTopics()] });
    const results = await this.#redis
      .multi()
      .get(k.epoch)
      .set(k.replica(this.id), presence, 'PX', this.#leaseMs)
      .zadd(k.replicas, now + this.#leaseMs, this.id)
      .zremrangebyscore(k.replicas, '-inf', now)
      .zrange(k.replicas, 0, -1)
      .exec();
    if (!results || this.#closed) return;
    const [epoch, , , , ids] = results.map(([, value]) => value) as [
      string | null,
      unknown,
      unknown,
      unknown,
      string[],
    ];
    if (epoch !== this.#epoch) {
      this.#fail('epoch', new Error('redis bus: the shared sequence was lost (epoch changed)'));
      return;
    }
    const seq = await this.#redis.lsAcquire(k.lease, k.seq, this.id, this.#leaseMs);
    if (seq < 0 && this.#role === 'writer') {
      this.#fail('lease', new Error('redis bus: another replica took the writer lease'));
      return;
    }
    if (seq >= 0 && this.#role === 'follower') this.#promote(seq);
    const others = ids.filter((id) => id !== this.id);
    const [holder, ...values] = await this.#redis.mget(k.lease, ...others.map(k.replica));
    const topics = new Set<string>();
    this.#writerUrl = null;
    others.forEach((id, i) => {
      const text = values[i];
      if (!text) return;
      const announced = JSON.parse(text) as { url: string | null; topics: string[] };
      for (const t of announced.topics) topics.add(t);
      if (id === holder) this.#writerUrl = announced.url;
    });
    this.#writerId = holder ?? null;
    this.#remoteTopics = topics;
  }

  /** Holding the lease, the replica writes once its mirror has every delta up to `seq`. */
  #promote(seq: number): void {
    this.#role = 'promoting';
    const ready = () => {
      if (this.#role !== 'promoting') return;
      if (this.#mirror.seq < seq) {
        setTimeout(ready, 10);
        return;
      }
      this.#assigned = seq;
      this.#role = 'writer';
      this.#logger.info({ seq, replica: this.id }, 'redis bus: this replica is the writer');
      for (const listener of this.#writerListeners) listener();
    };
    ready();
  }

  async #read(): Promise<void> {
    while (!this.#closed && this.#role !== 'lost') {
      let reply: [Buffer, StreamEntry[]][] | null;
      try {
        reply = (await this.#reader.xreadBuffer(
          'COUNT',
          1000,
          'BLOCK',
          5000,
          'STREAMS',
          this.#keys.log,
          this.#lastId,
        )) as [Buffer, StreamEntry[]][] | null;
      } catch (error) {
        if (this.#closed) return;
        this.#logger.warn({ err: error }, 'redis bus: read failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, 200));
        continue;
      }
      for (const [, entries] of reply ?? []) {
        for (const [id, fields] of entries) this.#receive(id.toString(), fields);
      }
    }
  }

  #receive(id: string, fields: Buffer[]): void {
    if (this.#role === 'lost') return;
    this.#lastId = id;
    const seq = Number(id.split('-')[0]);
    if (seq <= this.#mirror.seq) return;
    if (seq !== this.#mirror.seq + 1) {
      this.#fail('gap', new Error(`redis bus: the log skipped from ${this.#mirror.seq} to ${seq}`));
      return;
    }
    const bytes = field(fields, 'd');
    if (!bytes) return;
    const delta = this.#codec.decode(bytes);
    const own = field(fields, 'w')?.toString() === this.id;
    if (!own) for (const apply of this.#followers) apply(delta);
    this.#mirror.accept(delta);
  }

  #fail(reason: LostReason, error: unknown): void {
    if (this.#closed || this.#role === 'lost') return;
    this.#role = 'lost';
    this.#logger.error({ err: error, reason }, 'redis bus: replica no longer in step; rebuilding');
    for (const listener of this.#lostListeners) listener(reason);
  }
}
