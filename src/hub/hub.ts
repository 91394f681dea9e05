import { randomUUID } from 'node:crypto';
import { diff } from '../shared/json-patch.ts';
import type { DeltaMessage, SnapshotMessage } from '../shared/protocol.ts';
import { InProcessFanOut } from './fanout.ts';
import type { FanOut, Hub, TopicState } from './types.ts';

/** Bounds of the replay buffer that lets reconnecting clients resume. */
export interface ReplayLimits {
  maxDeltas: number;
  maxBytes: number;
}

export const DEFAULT_REPLAY_LIMITS: ReplayLimits = { maxDeltas: 10_000, maxBytes: 8 * 1024 * 1024 };

const encodedCache = new WeakMap<object, string>();
const bufferCache = new WeakMap<object, Buffer>();

/**
 * A message serialised once, however many clients it goes to. Messages handed
 * to `encode` must not be mutated afterwards.
 */
export function encode(message: object): string {
  let text = encodedCache.get(message);
  if (text === undefined) {
    text = JSON.stringify(message);
    encodedCache.set(message, text);
  }
  return text;
}

/**
 * `encode` as UTF-8 bytes, cached the same way: handing the same Buffer to
 * every socket spares the per-client string conversion.
 */
export function encodeBuffer(message: object): Buffer {
  let bytes = bufferCache.get(message);
  if (bytes === undefined) {
    const text = encodedCache.get(message) ?? JSON.stringify(message);
    // Not `Buffer.from`: a small Buffer is a slice of a shared 64 KiB pool, and
    // one kept (the replay buffer keeps thousands) pins the whole pool.
    bytes = Buffer.allocUnsafeSlow(Buffer.byteLength(text));
    bytes.write(text);
    bufferCache.set(message, bytes);
  }
  return bytes;
}

/** Versions of removed topics remembered so a re-created topic keeps counting up. */
const MAX_TOMBSTONES = 10_000;

/**
 * A delta in the replay buffer, kept encoded only: the delta objects (whose
 * patch values share superseded states) are freed after the fan-out, so the
 * buffer costs about its byte limit. Resumes parse back what they replay.
 */
interface Buffered {
  topic: string;
  seq: number;
  bytes: Buffer;
}

/**
 * The in-memory hub. Data handed to `set` is owned by the hub from then on:
 * producers build a new object for each state instead of mutating the last.
 */
export class MemoryHub implements Hub {
  readonly epoch: string;
  readonly fanout: FanOut;
  readonly #topics = new Map<string, TopicState>();
  readonly #tombstones = new Map<string, number>();
  readonly #limits: ReplayLimits;
  #seq = 0;
  /** Evicted entries before `#head` are cleared, so they are not kept until compaction. */
  #buffer: (Buffered | undefined)[] = [];
  #head = 0;
  #bufferBytes = 0;
  /** Seq of the newest delta evicted from the buffer: resume works from here on. */
  #floor = 0;

  constructor(options: { fanout?: FanOut; limits?: Partial<ReplayLimits>; epoch?: string } = {}) {
    this.epoch = options.epoch ?? randomUUID();
    this.fanout = options.fanout ?? new InProcessFanOut();
    this.#limits = { ...DEFAULT_REPLAY_LIMITS, ...options.limits };
  }

  get seq(): number {
    return this.#seq;
  }

  set(topic: string, data: unknown): DeltaMessage | null {
    const prev = this.#topics.get(topic);
    const patch = prev
      ? diff(prev.data, data)
      : [{ op: 'replace' as const, path: '', value: data }];
    if (patch.length === 0) return null;
    const version = this.#nextVersion(topic, prev);
    const seq = ++this.#seq;
    this.#topics.set(topic, { version, seq, data });
    return this.#emit({ type: 'delta', topic, version, seq, op: 'patch', patch });
  }

  append(topic: string, items: unknown[], cap: number): DeltaMessage | null {
    if (items.length === 0) return null;
    const prev = this.#topics.get(topic);
    const prevLines = (prev?.data as { lines?: unknown[] } | undefined)?.lines ?? [];
    const merged = prevLines.concat(items);
    const lines = merged.length > cap ? merged.slice(merged.length - cap) : merged;
    const version = this.#nextVersion(topic, prev);
    const seq = ++this.#seq;
    this.#topics.set(topic, { version, seq, data: { lines } });
    const kept = items.length > cap ? items.slice(items.length - cap) : items;
    return this.#emit({ type: 'delta', topic, version, seq, op: 'append', items: kept, cap });
  }

  remove(topic: string): void {
    if (!this.#topics.has(topic)) return;
    this.set(topic, null);
    const version = this.#topics.get(topic)?.version ?? 0;
    this.#topics.delete(topic);
    this.#tombstones.set(topic, version);
    if (this.#tombstones.size > MAX_TOMBSTONES) {
      const oldest = this.#tombstones.keys().next().value as string;
      this.#tombstones.delete(oldest);
    }
  }

  get(topic: string): TopicState | undefined {
    return this.#topics.get(topic);
  }

  snapshot(topic: string): SnapshotMessage {
    const state = this.#topics.get(topic);
    const message: SnapshotMessage = {
      type: 'snapshot',
      topic,
      version: state?.version ?? this.#tombstones.get(topic) ?? 0,
      seq: this.#seq,
      data: state?.data ?? null,
    };
    // Every subscriber of a topic gets the same state: its JSON is made once
    // per state (the hub owns it, unchanged until replaced) and only the
    // small envelope per snapshot. Same text as JSON.stringify(message).
    const data = message.data;
    const dataText =
      typeof data === 'object' && data !== null ? encode(data) : JSON.stringify(data);
    encodedCache.set(
      message,
      `{"type":"snapshot","topic":${JSON.stringify(topic)},"version":${message.version},"seq":${message.seq},"data":${dataText}}`,
    );
    return message;
  }

  since(seq: number, topics: ReadonlySet<string>): DeltaMessage[] | null {
    if (seq > this.#seq || seq < this.#floor) return null;
    const out: DeltaMessage[] = [];
    for (let i = this.#head; i < this.#buffer.length; i++) {
      const entry = this.#buffer[i] as Buffered;
      if (entry.seq <= seq || !topics.has(entry.topic)) continue;
      const delta = JSON.parse(entry.bytes.toString('utf8')) as DeltaMessage;
      bufferCache.set(delta, entry.bytes);
      out.push(delta);
    }
    return out;
  }

  topics(): IterableIterator<string> {
    return this.#topics.keys();
  }

  /** Replay buffer occupancy, for tests and /metrics. */
  get replayStats(): { deltas: number; bytes: number; floor: number } {
    return {
      deltas: this.#buffer.length - this.#head,
      bytes: this.#bufferBytes,
      floor: this.#floor,
    };
  }

  #nextVersion(topic: string, prev: TopicState | undefined): number {
    if (prev) return prev.version + 1;
    const removed = this.#tombstones.get(topic);
    if (removed === undefined) return 1;
    this.#tombstones.delete(topic);
    return removed + 1;
  }

  #emit(delta: DeltaMessage): DeltaMessage {
    const bytes = encodeBuffer(delta);
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
    this.fanout.publish(delta);
    return delta;
  }
}
