import type { FastifyBaseLogger } from 'fastify';
import type { RawData, WebSocket } from 'ws';
import { z } from 'zod';
import type { Hub } from '../../hub/types.ts';
import {
  type ClientMessage,
  clientMessageSchema,
  type DeltaMessage,
  type ErrorMessage,
  MAX_CLIENT_MESSAGE_BYTES,
  PROTOCOL_VERSION,
  type ServerMessage,
} from '../../shared/protocol.ts';
import { parseTopic } from '../../shared/topics.ts';
import { encodeBuffer } from '../encode.ts';
import type { CompressionGate } from './compression.ts';
import type { WsStats } from './stats.ts';

/** Per-connection limits of `WS /ws`. */
export interface ClientLimits {
  /** Topics one connection may hold. */
  maxTopics: number;
  /** Above this many unsent bytes a client gets no more deltas, only a coalesced snapshot later. */
  softBufferBytes: number;
  /**
   * A send that would take the unsent bytes above this closes the client
   * (4008), when it is already over the soft limit: one large message to a
   * client that keeps up is sent.
   */
  hardBufferBytes: number;
  /** A client that stays above the soft limit this long is closed (4008). */
  stuckMs: number;
  /** How often slow clients are checked for having drained. */
  drainCheckMs: number;
}

export const DEFAULT_CLIENT_LIMITS: ClientLimits = {
  maxTopics: 256,
  softBufferBytes: 1024 * 1024,
  hardBufferBytes: 8 * 1024 * 1024,
  stuckMs: 15_000,
  drainCheckMs: 100,
};

/** Close code for a client that does not read fast enough. */
export const SLOW_CONSUMER_CLOSE = 4008;

export interface ConnectionContext {
  hub: Hub;
  limits: ClientLimits;
  stats: WsStats;
  heartbeatMs: number;
  log: FastifyBaseLogger;
  /** Decides, per message, whether to compress (permessage-deflate, when negotiated). */
  compression: CompressionGate;
  /** Called when the client becomes slow, so the plugin watches it drain. */
  onSlow(connection: ProtocolConnection): void;
  /**
   * Loads topics whose state is kept out of memory until read (a past
   * session's log), before their snapshot; null when all are in memory.
   * Never rejects.
   */
  warm(topics: readonly string[]): Promise<void> | null;
}

/** One client of `WS /ws`: its subscriptions, its backpressure state. */
export class ProtocolConnection {
  readonly ws: WebSocket;
  readonly #ctx: ConnectionContext;
  readonly #subs = new Map<string, () => void>();
  /** Topics changed while the client was too slow; non-null means "slow". */
  #dirty: Set<string> | null = null;
  #slowSince = 0;
  #closed = false;
  /** Messages wait here, in order, while one before them loads topics. */
  #queue: Promise<void> | null = null;

  constructor(ws: WebSocket, ctx: ConnectionContext) {
    this.ws = ws;
    this.#ctx = ctx;
    ws.on('message', (data, isBinary) => this.#onMessage(data, isBinary));
    ws.once('close', () => this.dispose());
    const { hub, heartbeatMs } = ctx;
    this.#send({
      type: 'welcome',
      protocol: PROTOCOL_VERSION,
      epoch: hub.epoch,
      seq: hub.seq,
      heartbeatMs,
    });
  }

  get topicCount(): number {
    return this.#subs.size;
  }

  /** Drops every subscription; the socket is closing. */
  dispose(): void {
    this.#closed = true;
    for (const off of this.#subs.values()) off();
    this.#subs.clear();
    this.#dirty = null;
  }

  /**
   * Called periodically while slow. Returns true when the client no longer
   * needs watching: it drained (and got one snapshot per changed topic) or
   * it was closed.
   */
  checkSlow(now: number): boolean {
    const dirty = this.#dirty;
    if (this.#closed || dirty === null) return true;
    if (this.ws.bufferedAmount <= this.#ctx.limits.softBufferBytes / 4) {
      this.#dirty = null;
      this.#send({ type: 'resync', reason: 'slow_consumer' });
      // Large snapshots can fill the buffer again: the rest wait for the next drain.
      for (const name of dirty) if (this.#subs.has(name)) this.#sendSnapshot(name);
      if (this.#dirty !== null) return false;
      this.#ctx.stats.emit('drained', this);
      return true;
    }
    if (now - this.#slowSince > this.#ctx.limits.stuckMs) {
      this.#closeSlow(
        `slow consumer: not reading for ${Math.round((now - this.#slowSince) / 1000)} s`,
      );
      return true;
    }
    return false;
  }

  readonly #deliver = (delta: DeltaMessage): void => {
    if (this.#closed) return;
    this.#coalesceIfBehind();
    if (this.#dirty !== null) this.#dirty.add(delta.topic);
    else this.#send(delta);
  };

  /** Past the soft limit, changes are only noted (one snapshot per topic once drained). */
  #coalesceIfBehind(): void {
    if (this.#dirty !== null || this.ws.bufferedAmount <= this.#ctx.limits.softBufferBytes) return;
    this.#dirty = new Set();
    this.#slowSince = Date.now();
    this.#ctx.stats.coalesced++;
    this.#ctx.stats.emit('slow', this);
    this.#ctx.onSlow(this);
  }

  /**
   * Sends unless the client is behind (over the soft limit) and this would
   * take its buffer past the hard limit. A client that keeps up gets any one
   * message, however large: closing it for a big snapshot would only make it
   * reconnect and be closed again, in a loop.
   */
  #send(message: ServerMessage): void {
    if (this.#closed) return;
    const bytes = encodeBuffer(message);
    const buffered = this.ws.bufferedAmount;
    const { softBufferBytes, hardBufferBytes } = this.#ctx.limits;
    if (buffered > softBufferBytes && buffered + bytes.length > hardBufferBytes) {
      this.#closeSlow('slow consumer: send buffer over limit');
      return;
    }
    const compress = this.#ctx.compression.send(this.ws, bytes, bytes.length);
    const stats = this.#ctx.stats;
    stats.bytesSent += bytes.length;
    stats.messagesSent++;
    if (compress) stats.compressedMessages++;
    const after = this.ws.bufferedAmount;
    if (after > stats.maxBufferedBytes) stats.maxBufferedBytes = after;
  }

  #closeSlow(reason: string): void {
    if (this.#closed) return;
    this.dispose();
    this.#ctx.stats.slowConsumerCloses++;
    this.#ctx.stats.emit('slowClose', this);
    this.#ctx.log.warn({ reason }, 'closing a WebSocket client that does not read');
    this.ws.close(SLOW_CONSUMER_CLOSE, reason);
  }

  #error(code: ErrorMessage['code'], message: string): void {
    this.#send({ type: 'error', code, message });
  }

  #onMessage(data: RawData, isBinary: boolean): void {
    if (this.#closed) return;
    const text = Array.isArray(data)
      ? Buffer.concat(data).toString('utf8')
      : Buffer.from(data as ArrayBuffer).toString('utf8');
    if (text.length > MAX_CLIENT_MESSAGE_BYTES) {
      this.#error('too_large', `Messages are limited to ${MAX_CLIENT_MESSAGE_BYTES} bytes.`);
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      const kind = isBinary ? 'a binary frame' : 'not valid JSON';
      this.#error(
        'bad_message',
        `The message is ${kind} (${(error as Error).message}); send one JSON object per text frame, e.g. {"type":"subscribe","topics":["sessions"]}.`,
      );
      return;
    }
    const parsed = clientMessageSchema.safeParse(json);
    if (!parsed.success) {
      this.#error(
        'bad_message',
        `Invalid message: ${z.prettifyError(parsed.error).slice(0, 500)}. Types: subscribe {topics}, unsubscribe {topics}, resume {epoch, seq, topics}, ping {id?}.`,
      );
      return;
    }
    this.#enqueue(parsed.data);
  }

  /**
   * Handles a message now, or after the messages still waiting for topics to
   * load: a client's messages take effect in the order it sent them.
   */
  #enqueue(message: ClientMessage): void {
    const loading =
      message.type === 'subscribe'
        ? this.#ctx.warm(message.topics)
        : message.type === 'resume'
          ? this.#ctx.warm(Object.keys(message.topics))
          : null;
    if (loading === null && this.#queue === null) {
      this.#handle(message);
      return;
    }
    const queue = (this.#queue ?? Promise.resolve())
      .then(() => loading)
      .then(() => {
        if (!this.#closed) this.#handle(message);
      })
      .catch((error: unknown) => this.#ctx.log.error({ err: error }, 'handling a message failed'))
      .finally(() => {
        if (this.#queue === queue) this.#queue = null;
      });
    this.#queue = queue;
  }

  #handle(message: ClientMessage): void {
    switch (message.type) {
      case 'subscribe':
        for (const name of this.#accept(message.topics)) this.#sendSnapshot(name);
        return;
      case 'unsubscribe':
        for (const name of message.topics) {
          this.#subs.get(name)?.();
          this.#subs.delete(name);
          this.#dirty?.delete(name);
        }
        return;
      case 'resume':
        this.#resume(message);
        return;
      case 'ping':
        this.#send(message.id === undefined ? { type: 'pong' } : { type: 'pong', id: message.id });
        return;
    }
  }

  /** Validates topic names and starts their deltas; returns the accepted ones. */
  #accept(names: readonly string[]): string[] {
    const unique = [...new Set(names)];
    const unknown = unique.filter((name) => parseTopic(name) === null);
    if (unknown.length > 0) {
      this.#error(
        'unknown_topic',
        `Unknown topic(s): ${unknown.slice(0, 5).join(', ')}. Topics are sessions, plans, analytics, session:<id>, logs:<id>, metrics:<id>, plan:<id>.`,
      );
    }
    const valid = unique.filter((name) => parseTopic(name) !== null);
    const fresh = valid.filter((name) => !this.#subs.has(name));
    if (this.#subs.size + fresh.length > this.#ctx.limits.maxTopics) {
      this.#error(
        'too_many_topics',
        `A connection may hold ${this.#ctx.limits.maxTopics} topics; unsubscribe some first.`,
      );
      return valid.filter((name) => this.#subs.has(name));
    }
    for (const name of fresh)
      this.#subs.set(name, this.#ctx.hub.fanout.subscribe(name, this.#deliver));
    return valid;
  }

  #sendSnapshot(name: string): void {
    this.#coalesceIfBehind();
    if (this.#dirty !== null) this.#dirty.add(name);
    else this.#send(this.#ctx.hub.snapshot(name));
  }

  /**
   * Replays what the client missed when the hub still has it and the
   * client's versions line up with it; otherwise `resync` and snapshots.
   * A topic whose version does not line up gets a snapshot after the replay.
   */
  #resume(message: Extract<ClientMessage, { type: 'resume' }>): void {
    const { hub, limits } = this.#ctx;
    const held = new Map(Object.entries(message.topics));
    const names = this.#accept([...held.keys()]);
    if (message.epoch !== hub.epoch) {
      this.#resync('epoch_changed', names);
      return;
    }
    const missed = hub.since(message.seq, new Set(names));
    if (missed === null) {
      this.#resync('gap_too_old', names);
      return;
    }

    const expected = new Map<string, number>();
    for (const name of names) expected.set(name, held.get(name) ?? 0);
    const broken = new Set<string>();
    const replay: DeltaMessage[] = [];
    let bytes = 0;
    for (const delta of missed) {
      const version = expected.get(delta.topic) as number;
      if (broken.has(delta.topic) || delta.version <= version) continue;
      if (delta.version !== version + 1) {
        broken.add(delta.topic);
        continue;
      }
      expected.set(delta.topic, delta.version);
      replay.push(delta);
      bytes += encodeBuffer(delta).length;
    }
    // A backlog bigger than the soft limit costs more than fresh snapshots.
    if (bytes > limits.softBufferBytes) {
      this.#resync('gap_too_old', names);
      return;
    }
    for (const [name, version] of expected) {
      if (hub.snapshot(name).version !== version) broken.add(name);
    }
    let replayed = 0;
    for (const delta of replay) {
      if (broken.has(delta.topic)) continue;
      this.#send(delta);
      replayed++;
    }
    for (const name of broken) this.#sendSnapshot(name);
    this.#send({ type: 'resumed', replayed });
  }

  #resync(reason: 'epoch_changed' | 'gap_too_old', names: readonly string[]): void {
    this.#send({ type: 'resync', reason });
    for (const name of names) this.#sendSnapshot(name);
  }
}
