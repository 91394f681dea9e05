import { z } from 'zod';
import type { JsonPatchOp } from './json-patch.ts';

/**
 * The real-time protocol spoken on `WS /ws`. Every message is one JSON object
 * discriminated by `type`.
 *
 * Ordering and resume: every delta carries the hub's global `seq` (monotonic
 * within one server `epoch`) and the topic's `version` (the topic's own
 * counter). A client applies a delta only when it holds `version - 1` of that
 * topic and `seq` is above the last it applied; anything else is a duplicate
 * (ignored) or a gap (the client re-subscribes and gets a snapshot).
 */
export const PROTOCOL_VERSION = 1;

/** Largest client message the server accepts, in bytes. */
export const MAX_CLIENT_MESSAGE_BYTES = 16 * 1024;

/** Sent once on every connection, before anything else. */
export interface WelcomeMessage {
  type: 'welcome';
  protocol: number;
  /** New on every server start; a changed epoch means resync. */
  epoch: string;
  /** The hub's sequence number at connection time. */
  seq: number;
  heartbeatMs: number;
}

/** Full state of a topic; replaces whatever the client held. */
export interface SnapshotMessage {
  type: 'snapshot';
  topic: string;
  version: number;
  seq: number;
  /** Null when the topic does not exist (yet), e.g. an unknown session. */
  data: unknown;
}

/** A change to a topic the client holds at `version - 1`. */
export type DeltaMessage =
  | {
      type: 'delta';
      topic: string;
      version: number;
      seq: number;
      op: 'patch';
      patch: JsonPatchOp[];
    }
  | {
      type: 'delta';
      topic: string;
      version: number;
      seq: number;
      op: 'append';
      /** Items appended to the topic's list (e.g. `lines` of a logs topic). */
      items: unknown[];
      /** The client keeps at most this many items. */
      cap: number;
    };

/** The server could not replay what the client missed; snapshots follow. */
export interface ResyncMessage {
  type: 'resync';
  reason: 'epoch_changed' | 'gap_too_old' | 'slow_consumer';
}

/** Sent after a resume was satisfied from the replay buffer. */
export interface ResumedMessage {
  type: 'resumed';
  /** Number of deltas replayed. */
  replayed: number;
}

export interface ErrorMessage {
  type: 'error';
  code: 'bad_message' | 'too_large' | 'unknown_topic' | 'too_many_topics' | 'unauthorized';
  message: string;
}

export interface PongMessage {
  type: 'pong';
  /** Echo of the client's `id`. */
  id?: number;
}

export type ServerMessage =
  | WelcomeMessage
  | SnapshotMessage
  | DeltaMessage
  | ResyncMessage
  | ResumedMessage
  | ErrorMessage
  | PongMessage;

const topicName = z.string().min(1).max(600);
const topicList = z.array(topicName).min(1).max(256);

/** Client → server messages, validated at the boundary. */
export const clientMessageSchema = z.discriminatedUnion('type', [
  /** Subscribe: a snapshot of each topic follows. */
  z.object({ type: z.literal('subscribe'), topics: topicList }),
  z.object({ type: z.literal('unsubscribe'), topics: topicList }),
  /**
   * After a reconnect: the epoch and last applied seq, plus the topics held
   * with their versions. The server replays missed deltas or answers `resync`.
   */
  z.object({
    type: z.literal('resume'),
    epoch: z.string().min(1).max(100),
    seq: z.number().int().nonnegative(),
    topics: z.record(topicName, z.number().int().nonnegative()),
  }),
  z.object({ type: z.literal('ping'), id: z.number().int().optional() }),
]);

export type ClientMessage = z.infer<typeof clientMessageSchema>;

/** Messages of the legacy per-session endpoint `WS /ws/:id` (the seed's contract). */
export type LegacyMessage =
  | { type: 'status'; data: unknown }
  | { type: 'complete'; message: string; data?: unknown }
  | { type: 'log'; data: string };
