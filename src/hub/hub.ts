import { applyPatch, diff, diffEntries } from '../shared/json-patch.ts';
import type { DeltaMessage, SnapshotMessage } from '../shared/protocol.ts';
import { InProcessBus, type ReplayLimits } from './fanout.ts';
import type { QueueStats } from './redis-queue.ts';
import type { Bus, Change, FanOut, Hub, ReplayStats, TopicState } from './types.ts';

export { DEFAULT_REPLAY_LIMITS, type ReplayLimits } from './fanout.ts';

/** Versions of removed topics remembered so a re-created topic keeps counting up. */
const MAX_TOMBSTONES = 10_000;

/**
 * The in-memory hub: topic states and their versions, decided here; the
 * order (seq), the replay log and the delivery belong to the bus. With a
 * shared bus every replica's hub applies the others' deltas, so any of them
 * can snapshot, and resume, every topic.
 *
 * Data handed to `set` is owned by the hub from then on: producers build a
 * new object for each state instead of mutating the last.
 */
export class MemoryHub implements Hub {
  readonly bus: Bus;
  readonly #topics = new Map<string, TopicState>();
  readonly #tombstones = new Map<string, number>();
  readonly #unfollow: () => void;
  /** Collections `setEntries` made, which it may change in place: no one else holds them. */
  readonly #owned = new WeakSet<object>();

  constructor(options: { bus?: Bus; limits?: Partial<ReplayLimits>; epoch?: string } = {}) {
    this.bus =
      options.bus ??
      new InProcessBus({
        ...(options.limits ? { limits: options.limits } : {}),
        ...(options.epoch ? { epoch: options.epoch } : {}),
      });
    this.#unfollow = this.bus.follow((delta) => this.#applyRemote(delta));
  }

  get epoch(): string {
    return this.bus.epoch;
  }

  get seq(): number {
    return this.bus.seq;
  }

  get fanout(): FanOut {
    return this.bus;
  }

  set(topic: string, data: unknown): DeltaMessage | null {
    const prev = this.#topics.get(topic);
    const patch = prev
      ? diff(prev.data, data)
      : [{ op: 'replace' as const, path: '', value: data }];
    if (patch.length === 0) return null;
    const version = this.#nextVersion(topic, prev);
    return this.#publish(
      { type: 'delta', topic, version, op: 'patch', patch },
      { version, seq: prev?.seq ?? 0, data },
    );
  }

  setEntries(
    topic: string,
    field: string,
    entries: ReadonlyMap<string, unknown>,
  ): DeltaMessage | null {
    const prev = this.#topics.get(topic);
    const data = isRecord(prev?.data) ? prev.data : null;
    const held = data && isRecord(data[field]) ? data[field] : null;
    if (!prev || !data || !held) {
      const collection: Record<string, unknown> = {};
      diffEntries(collection, '', entries);
      // Not owned: the delta of a new topic carries this very object, so it is copied
      // before it is first changed in place.
      return this.set(topic, { ...data, [field]: collection });
    }
    // Changed in place, so a change costs what it changes; a collection a
    // producer handed to `set` may still be theirs, so it is copied once first.
    let collection = held;
    if (!this.#owned.has(held)) {
      collection = { ...held };
      this.#owned.add(collection);
    }
    const patch = diffEntries(collection, `/${escapePointer(field)}`, entries);
    if (patch.length === 0 && collection === held) return null;
    // A new top object per version: encodings are cached by the object they encode.
    const next = { ...data, [field]: collection };
    if (patch.length === 0) {
      this.#topics.set(topic, { ...prev, data: next });
      return null;
    }
    const version = this.#nextVersion(topic, prev);
    return this.#publish(
      { type: 'delta', topic, version, op: 'patch', patch },
      { version, seq: prev.seq, data: next },
    );
  }

  append(topic: string, items: unknown[], cap: number): DeltaMessage | null {
    if (items.length === 0) return null;
    const prev = this.#topics.get(topic);
    const version = this.#nextVersion(topic, prev);
    const kept = items.length > cap ? items.slice(items.length - cap) : items;
    return this.#publish(
      { type: 'delta', topic, version, op: 'append', items: kept, cap },
      { version, seq: prev?.seq ?? 0, data: { lines: appended(prev?.data, items, cap) } },
    );
  }

  remove(topic: string): void {
    if (!this.#topics.has(topic)) return;
    this.set(topic, null);
    this.#forget(topic);
  }

  get(topic: string): TopicState | undefined {
    return this.#topics.get(topic);
  }

  snapshot(topic: string): SnapshotMessage {
    const state = this.#topics.get(topic);
    return {
      type: 'snapshot',
      topic,
      version: state?.version ?? this.#tombstones.get(topic) ?? 0,
      seq: this.bus.seq,
      data: state?.data ?? null,
    };
  }

  since(seq: number, topics: ReadonlySet<string>): DeltaMessage[] | null {
    return this.bus.since(seq, topics);
  }

  topics(): IterableIterator<string> {
    return this.#topics.keys();
  }

  /** Replay log occupancy, for tests and /metrics. */
  get replayStats(): ReplayStats {
    return this.bus.replayStats;
  }

  /** What a shared bus holds for its log, unacknowledged (undefined on the in-process bus). */
  get queueStats(): QueueStats | undefined {
    return this.bus.queueStats;
  }

  /** Stops applying other replicas' deltas (the bus itself is closed by its owner). */
  close(): void {
    this.#unfollow();
  }

  #publish(change: Change, state: TopicState): DeltaMessage {
    // State first: a listener that reads the hub while the delta is delivered sees it.
    this.#topics.set(change.topic, state);
    const delta = this.bus.publish(change, state.data === null ? null : state);
    state.seq = delta.seq;
    return delta;
  }

  /** Another replica's delta: the state follows it, versions as that replica decided them. */
  #applyRemote(delta: DeltaMessage): void {
    const prev = this.#topics.get(delta.topic);
    const data =
      delta.op === 'append'
        ? { lines: appended(prev?.data, delta.items, delta.cap) }
        : applyPatch(prev?.data ?? null, delta.patch);
    this.#tombstones.delete(delta.topic);
    this.#topics.set(delta.topic, { version: delta.version, seq: delta.seq, data });
    if (data === null) this.#forget(delta.topic);
  }

  #forget(topic: string): void {
    const version = this.#topics.get(topic)?.version ?? 0;
    this.#topics.delete(topic);
    this.#tombstones.set(topic, version);
    if (this.#tombstones.size > MAX_TOMBSTONES) {
      const oldest = this.#tombstones.keys().next().value as string;
      this.#tombstones.delete(oldest);
    }
  }

  #nextVersion(topic: string, prev: TopicState | undefined): number {
    if (prev) return prev.version + 1;
    const removed = this.#tombstones.get(topic);
    if (removed === undefined) return 1;
    this.#tombstones.delete(topic);
    return removed + 1;
  }
}

function appended(data: unknown, items: readonly unknown[], cap: number): unknown[] {
  const prevLines = (data as { lines?: unknown[] } | null | undefined)?.lines ?? [];
  const merged = prevLines.concat(items);
  return merged.length > cap ? merged.slice(merged.length - cap) : merged;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function escapePointer(token: string): string {
  return token.replaceAll('~', '~0').replaceAll('/', '~1');
}
