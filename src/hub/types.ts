import type { DeltaMessage, SnapshotMessage } from '../shared/protocol.ts';
import type { QueueStats } from './redis-queue.ts';

/** A topic's current state in the hub. */
export interface TopicState {
  version: number;
  /** The bus seq of the last change to this topic. */
  seq: number;
  data: unknown;
}

/** Receives every change the hub accepted, in seq order. */
export type DeltaListener = (delta: DeltaMessage) => void;

/** A change as a hub decided it, before the bus gave it its place (`seq`) in the shared order. */
export type Change = DeltaMessage extends infer D
  ? D extends unknown
    ? Omit<D, 'seq'>
    : never
  : never;

/**
 * Delivery to this process's subscribers: what the WebSocket connections,
 * the legacy endpoint and the metrics use.
 */
export interface FanOut {
  /** Deltas of one topic, in seq order. Returns the unsubscribe function. */
  subscribe(topic: string, listener: DeltaListener): () => void;
  /** Deltas of every topic, in seq order. Returns the unsubscribe function. */
  subscribeAll(listener: DeltaListener): () => void;
  /**
   * Whether anyone follows the topic, on any replica the bus connects: what
   * decides whether a topic may leave memory. The embedded bus knows only
   * this process; a shared bus also counts the listeners other replicas
   * announced.
   */
  hasListeners(topic: string): boolean;
}

/**
 * The seam between hubs and everything that orders, keeps and carries their
 * changes: the shared sequence, the replay log and the fan-out. The embedded
 * default (`InProcessBus`) keeps all three in this process; a Redis- or
 * Postgres-backed bus keeps them where every replica sees them, so that a
 * client resumes against any replica.
 *
 * The contract a shared implementation fills:
 * - **One order.** `publish` gives each change the next `seq` of one
 *   sequence shared by all replicas (the writer holding the sequence assigns
 *   it, e.g. under a lease in Redis); `epoch` names that sequence and changes
 *   only when its history is lost (a Redis flushed or restarted without
 *   persistence), never when one replica restarts.
 * - **Delivered in order, to every replica.** Every published delta reaches
 *   `subscribe`/`subscribeAll` listeners of every replica in seq order; the
 *   writer's own listeners get it once it is durable in the log (so a client
 *   never holds a seq that a failover could hand out again). Deltas published
 *   by other replicas also reach `follow` first, so the local hub applies
 *   them to its copy of the state before any client sees them.
 * - **Replay.** `since` answers from the log, bounded; null when the log no
 *   longer reaches back that far (the client then gets snapshots).
 * - **Presence.** `hasListeners` covers every replica.
 */
export interface Bus extends FanOut {
  /** Names the shared sequence; a client holding another epoch resyncs. */
  readonly epoch: string;
  /** Seq of the newest delta delivered in this process. */
  readonly seq: number;
  /**
   * Appends a change to the log under the next seq and delivers it. Returns
   * the delta with its seq. `state` is the topic's whole state after the
   * change (null once removed): a shared bus keeps it for replicas that join
   * later. Throws on a replica that does not hold the sequence.
   */
  publish(change: Change, state: TopicState | null): DeltaMessage;
  /**
   * Deltas after `seq` for the given topics, in order, from the bounded log;
   * null when it no longer reaches back that far (or `seq` is in the future).
   */
  since(seq: number, topics: ReadonlySet<string>): DeltaMessage[] | null;
  /**
   * Deltas other replicas published, in seq order, each before this
   * process's subscribers get it. A replica that joins late is first handed
   * each topic's current state as a whole-state delta (a `replace` at the
   * root with the topic's version and seq). The embedded bus never calls it.
   * Returns the unsubscribe function.
   */
  follow(apply: DeltaListener): () => void;
  /** Replay log occupancy, for tests and /metrics. */
  readonly replayStats: ReplayStats;
  /**
   * What the bus holds for its shared log and has not had acknowledged yet
   * (bounded), for /metrics. Absent on the in-process bus, which holds nothing.
   */
  readonly queueStats?: QueueStats;
  /**
   * Resolves once every delta published so far is in the shared log, so an
   * acknowledgement cannot outrun it; rejects with `BusAwayError` when the
   * shared log is not taking writes (the acknowledgement then says "retry").
   * Absent on the in-process bus, whose log is this process's memory.
   */
  flush?(): Promise<void>;
  close(): Promise<void>;
}

export interface ReplayStats {
  deltas: number;
  bytes: number;
  /** Seq of the newest delta evicted: resume works from here on. */
  floor: number;
}

/**
 * The live state: the one place that decides what changed. Producers hand it
 * whole states; it compares canonical forms, and only a real change gets a
 * version and, from the bus, a seq.
 */
export interface Hub {
  /** The bus's epoch. */
  readonly epoch: string;
  /** Seq of the last change delivered here. */
  readonly seq: number;
  readonly fanout: FanOut;
  /** Replaces a topic's state; returns the delta, or null when nothing changed. */
  set(topic: string, data: unknown): DeltaMessage | null;
  /**
   * Changes some entries of a keyed collection topic, `{ [field]: { [key]: value } }`
   * (the `sessions` list), at a cost proportional to the entries given, not to
   * the collection: an `undefined` value removes its entry. Same result as
   * `set` with the whole new state; returns the delta, or null when nothing changed.
   * The hub changes its copy of the collection in place: a state read with
   * `get` is current only until the next change (deltas and snapshots, taken
   * or encoded when made, are not affected).
   */
  setEntries(
    topic: string,
    field: string,
    entries: ReadonlyMap<string, unknown>,
  ): DeltaMessage | null;
  /** Appends items to a list topic (logs), keeping the last `cap`. */
  append(topic: string, items: unknown[], cap: number): DeltaMessage | null;
  /** Drops a topic (e.g. a pruned session). Subscribers get a null snapshot on next subscribe. */
  remove(topic: string): void;
  get(topic: string): TopicState | undefined;
  snapshot(topic: string): SnapshotMessage;
  /**
   * The deltas after `seq` for the given topics, in order, from the bus's
   * bounded replay log; null when it no longer reaches back that far.
   */
  since(seq: number, topics: ReadonlySet<string>): DeltaMessage[] | null;
  topics(): IterableIterator<string>;
}

/** The shared log is not taking writes (Redis away): what was published is not acknowledged yet. */
export class BusAwayError extends Error {
  override readonly name = 'BusAwayError';
}
