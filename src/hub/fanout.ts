import type { DeltaMessage } from '../shared/protocol.ts';
import type { Bus, Change, DeltaListener, ReplayStats, TopicState } from './types.ts';

/** Bounds of the replay log that lets reconnecting clients resume. */
export interface ReplayLimits {
  maxDeltas: number;
  maxBytes: number;
}

export const DEFAULT_REPLAY_LIMITS: ReplayLimits = { maxDeltas: 10_000, maxBytes: 8 * 1024 * 1024 };

/**
 * How a bus keeps deltas as bytes. The server hands its wire encoder in, so a
 * delta is serialised once for the log and every socket, and a replayed one
 * is sent as stored.
 */
export interface DeltaCodec {
  encode(delta: DeltaMessage): Uint8Array;
  decode(bytes: Uint8Array): DeltaMessage;
}

const utf8 = new TextDecoder();
const utf8Encoder = new TextEncoder();

/** Plain JSON, for a bus nobody handed a codec. */
export const JSON_CODEC: DeltaCodec = {
  encode: (delta) => utf8Encoder.encode(JSON.stringify(delta)),
  decode: (bytes) => JSON.parse(utf8.decode(bytes)) as DeltaMessage,
};

/**
 * A delta in the replay log, kept encoded only: the delta objects (whose
 * patch values share superseded states) are freed after the fan-out, so the
 * log costs about its byte limit. Resumes decode back what they replay.
 */
interface Buffered {
  topic: string;
  seq: number;
  bytes: Uint8Array;
}

/**
 * The embedded bus: one process, synchronous delivery, a bounded replay log
 * in memory. Its epoch is new on every start, since its log dies with the
 * process.
 */
export class InProcessBus implements Bus {
  readonly epoch: string;
  readonly #byTopic = new Map<string, Set<DeltaListener>>();
  readonly #all = new Set<DeltaListener>();
  readonly #limits: ReplayLimits;
  readonly #codec: DeltaCodec;
  #seq = 0;
  /** Evicted entries before `#head` are cleared, so they are not kept until compaction. */
  #buffer: (Buffered | undefined)[] = [];
  #head = 0;
  #bufferBytes = 0;
  #floor = 0;

  constructor(
    options: { limits?: Partial<ReplayLimits>; codec?: DeltaCodec; epoch?: string } = {},
  ) {
    this.epoch = options.epoch ?? crypto.randomUUID();
    this.#limits = { ...DEFAULT_REPLAY_LIMITS, ...options.limits };
    this.#codec = options.codec ?? JSON_CODEC;
  }

  get seq(): number {
    return this.#seq;
  }

  publish(change: Change, _state?: TopicState | null): DeltaMessage {
    const delta = { ...change, seq: ++this.#seq } as DeltaMessage;
    this.#keep(delta);
    this.#deliver(delta);
    return delta;
  }

  /**
   * Keeps and delivers a delta whose seq was assigned elsewhere: a shared
   * bus mirrors its log here, in seq order, as it reads it. Older or
   * repeated seqs are ignored (a log read twice changes nothing).
   */
  accept(delta: DeltaMessage): boolean {
    if (delta.seq <= this.#seq) return false;
    // A gap (a mirror that starts mid-log) cannot be replayed through.
    if (delta.seq !== this.#seq + 1) this.#restartAt(delta.seq - 1);
    this.#seq = delta.seq;
    this.#keep(delta);
    this.#deliver(delta);
    return true;
  }

  #deliver(delta: DeltaMessage): void {
    for (const listener of this.#all) listener(delta);
    const listeners = this.#byTopic.get(delta.topic);
    if (listeners) for (const listener of listeners) listener(delta);
  }

  since(seq: number, topics: ReadonlySet<string>): DeltaMessage[] | null {
    if (seq > this.#seq || seq < this.#floor) return null;
    const out: DeltaMessage[] = [];
    for (let i = this.#head; i < this.#buffer.length; i++) {
      const entry = this.#buffer[i] as Buffered;
      if (entry.seq <= seq || !topics.has(entry.topic)) continue;
      out.push(this.#codec.decode(entry.bytes));
    }
    return out;
  }

  follow(_apply: DeltaListener): () => void {
    return () => undefined;
  }

  subscribe(topic: string, listener: DeltaListener): () => void {
    let set = this.#byTopic.get(topic);
    if (!set) {
      set = new Set();
      this.#byTopic.set(topic, set);
    }
    set.add(listener);
    return () => {
      const current = this.#byTopic.get(topic);
      if (!current) return;
      current.delete(listener);
      if (current.size === 0) this.#byTopic.delete(topic);
    };
  }

  subscribeAll(listener: DeltaListener): () => void {
    this.#all.add(listener);
    return () => this.#all.delete(listener);
  }

  hasListeners(topic: string): boolean {
    return this.#byTopic.has(topic);
  }

  /** Topics this process's subscribers follow (a shared bus announces them to the others). */
  listenedTopics(): IterableIterator<string> {
    return this.#byTopic.keys();
  }

  /** Number of topic subscriptions (for tests and /metrics). */
  get subscriptions(): number {
    let n = 0;
    for (const set of this.#byTopic.values()) n += set.size;
    return n;
  }

  get replayStats(): ReplayStats {
    return {
      deltas: this.#buffer.length - this.#head,
      bytes: this.#bufferBytes,
      floor: this.#floor,
    };
  }

  async close(): Promise<void> {}

  #restartAt(seq: number): void {
    this.#buffer = [];
    this.#head = 0;
    this.#bufferBytes = 0;
    this.#floor = seq;
  }

  #keep(delta: DeltaMessage): void {
    const bytes = this.#codec.encode(delta);
    this.#buffer.push({ topic: delta.topic, seq: delta.seq, bytes });
    this.#bufferBytes += bytes.length;
    while (
      this.#buffer.length - this.#head > this.#limits.maxDeltas ||
      (this.#bufferBytes > this.#limits.maxBytes && this.#buffer.length - this.#head > 1)
    ) {
      const evicted = this.#buffer[this.#head] as Buffered;
      this.#buffer[this.#head++] = undefined;
      this.#bufferBytes -= evicted.bytes.length;
      this.#floor = evicted.seq;
    }
    // Compact the array occasionally instead of shifting on every eviction.
    if (this.#head > 1024 && this.#head * 2 > this.#buffer.length) {
      this.#buffer = this.#buffer.slice(this.#head);
      this.#head = 0;
    }
  }
}
