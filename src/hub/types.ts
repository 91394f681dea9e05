import type { DeltaMessage, SnapshotMessage } from '../shared/protocol.ts';

/** A topic's current state in the hub. */
export interface TopicState {
  version: number;
  /** The hub seq of the last change to this topic. */
  seq: number;
  data: unknown;
}

/** Receives every change the hub accepted, in seq order. */
export type DeltaListener = (delta: DeltaMessage) => void;

/**
 * Carries the hub's deltas to subscribers. In-process by default; a Redis
 * pub/sub implementation can replace it without touching producers or views.
 */
export interface FanOut {
  publish(delta: DeltaMessage): void;
  /** Returns the unsubscribe function. */
  subscribe(topic: string, listener: DeltaListener): () => void;
  /** Listens to every topic (the replay buffer, metrics, the legacy endpoint). */
  subscribeAll(listener: DeltaListener): () => void;
  /** Whether a listener in this process follows the topic (what may leave memory asks this). */
  hasListeners(topic: string): boolean;
}

/**
 * The live state: the one place that decides what changed. Producers hand it
 * whole states; it compares canonical forms, and only a real change gets a
 * version, a seq and a delta.
 */
export interface Hub {
  /** New on every start. */
  readonly epoch: string;
  /** Seq of the last accepted change. */
  readonly seq: number;
  readonly fanout: FanOut;
  /** Replaces a topic's state; returns the delta, or null when nothing changed. */
  set(topic: string, data: unknown): DeltaMessage | null;
  /** Appends items to a list topic (logs), keeping the last `cap`. */
  append(topic: string, items: unknown[], cap: number): DeltaMessage | null;
  /** Drops a topic (e.g. a pruned session). Subscribers get a null snapshot on next subscribe. */
  remove(topic: string): void;
  get(topic: string): TopicState | undefined;
  snapshot(topic: string): SnapshotMessage;
  /**
   * The deltas after `seq` for the given topics, in order, from the bounded
   * replay buffer; null when the buffer no longer reaches back that far.
   */
  since(seq: number, topics: ReadonlySet<string>): DeltaMessage[] | null;
  topics(): IterableIterator<string>;
}
