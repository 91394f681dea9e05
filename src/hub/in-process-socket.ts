import {
  type ClientMessage,
  clientMessageSchema,
  PROTOCOL_VERSION,
  type ServerMessage,
} from '../shared/protocol.ts';
import { parseTopic } from '../shared/topics.ts';
import type { Hub } from './types.ts';

type Listener = (event: { data: unknown }) => void;

/** The WebSocket constructor shape the protocol client takes (see `src/client`). */
export type InProcessSocketConstructor = new (
  url: string,
) => {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'message', listener: Listener): void;
  addEventListener(type: 'close' | 'error', listener: () => void): void;
};

/**
 * The real-time protocol spoken to a hub in this process, as a WebSocket the
 * protocol client can be given: the same welcome, snapshots and deltas as
 * `WS /ws`, without a server or a port. Used where the command owns the hub
 * (the plans dashboard without `--connect`), so the views read one pipeline
 * whether the hub is here or on a server. Messages are serialised, so the
 * client never holds the hub's objects, and delivered in order on later
 * microtasks, as a socket would.
 */
export function inProcessSocket(hub: Hub): InProcessSocketConstructor {
  return class InProcessSocket {
    readyState = 0;
    readonly #messages = new Set<Listener>();
    readonly #closes = new Set<() => void>();
    readonly #subs = new Map<string, () => void>();

    constructor(_url: string) {
      queueMicrotask(() => {
        if (this.readyState !== 0) return;
        this.readyState = 1;
        this.#deliver({
          type: 'welcome',
          protocol: PROTOCOL_VERSION,
          epoch: hub.epoch,
          seq: hub.seq,
          heartbeatMs: 3_600_000,
        });
      });
    }

    addEventListener(type: 'message' | 'close' | 'error', listener: Listener | (() => void)) {
      if (type === 'message') this.#messages.add(listener as Listener);
      else if (type === 'close') this.#closes.add(listener as () => void);
    }

    send(data: string): void {
      if (this.readyState !== 1) return;
      const parsed = clientMessageSchema.safeParse(JSON.parse(data));
      if (!parsed.success) {
        this.#deliver({ type: 'error', code: 'bad_message', message: 'invalid message' });
        return;
      }
      this.#handle(parsed.data);
    }

    close(): void {
      if (this.readyState === 3) return;
      this.readyState = 3;
      for (const off of this.#subs.values()) off();
      this.#subs.clear();
      queueMicrotask(() => {
        for (const listener of this.#closes) listener();
      });
    }

    #handle(message: ClientMessage): void {
      switch (message.type) {
        case 'subscribe':
          this.#subscribe(message.topics);
          return;
        case 'unsubscribe':
          for (const name of message.topics) {
            this.#subs.get(name)?.();
            this.#subs.delete(name);
          }
          return;
        case 'resume':
          // Nothing is replayed here: the held topics get fresh snapshots, as after a gap.
          this.#deliver({ type: 'resync', reason: 'gap_too_old' });
          this.#subscribe(Object.keys(message.topics));
          return;
        case 'ping':
          this.#deliver({ type: 'pong', ...(message.id === undefined ? {} : { id: message.id }) });
          return;
      }
    }

    #subscribe(names: readonly string[]): void {
      for (const name of names) {
        if (!parseTopic(name)) {
          this.#deliver({ type: 'error', code: 'unknown_topic', message: `unknown topic ${name}` });
          continue;
        }
        this.#subs.get(name)?.();
        // Snapshot first, then every later delta: both run in this turn, nothing falls between.
        this.#deliver(hub.snapshot(name));
        this.#subs.set(
          name,
          hub.fanout.subscribe(name, (delta) => this.#deliver(delta)),
        );
      }
    }

    #deliver(message: ServerMessage): void {
      const text = JSON.stringify(message);
      queueMicrotask(() => {
        if (this.readyState !== 1) return;
        for (const listener of this.#messages) listener({ data: text });
      });
    }
  };
}
