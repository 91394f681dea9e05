import type { ClientMessage, ErrorMessage, ServerMessage } from '../shared/protocol.ts';
import type { TopicData, TopicKind } from '../shared/topics.ts';
import { type BackoffOptions, backoffDelay, DEFAULT_BACKOFF } from './backoff.ts';
import { type ClientStats, type TopicEntry, TopicStore } from './topic-store.ts';

/** The part of the WebSocket API the client uses (browser, Node ≥ 22 global, or `ws`). */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  addEventListener(type: 'close' | 'error', listener: () => void): void;
}
export type WebSocketConstructor = new (url: string) => WebSocketLike;

export type ConnectionStatus = 'connecting' | 'live' | 'reconnecting' | 'offline';

/** Connection state; a new object only when something in it changed. */
export interface ClientState {
  status: ConnectionStatus;
  /** When the next reconnect attempt is due (epoch ms), while waiting for one. */
  nextAttemptAt: number | null;
  /** Failed attempts since the last successful connection. */
  attempts: number;
  /** The server epoch of the current (or last) connection. */
  epoch: string | null;
}

/** Everything the client holds; a new object only when something changed. */
export interface ClientSnapshot {
  connection: ClientState;
  topics: Readonly<Record<string, TopicEntry>>;
}

export interface ClientOptions {
  /** `ws://host/ws`; a function is asked again on every (re)connect. */
  url: string | (() => string);
  /** Defaults to the global WebSocket (browsers, Node ≥ 22). */
  WebSocket?: WebSocketConstructor;
  backoff?: Partial<BackoffOptions>;
  /** Sent as `?token=` when the server requires one. */
  token?: string;
  /** Server `error` messages (unknown topic, bad message…). */
  onError?: (error: ErrorMessage) => void;
}

/** A topic name of kind K: `sessions`, or `session:<id>`. */
export type TopicName<K extends TopicKind> = K | `${K}:${string}`;

const OPEN = 1;

interface EventSourceLike {
  addEventListener(type: string, listener: () => void): void;
  removeEventListener(type: string, listener: () => void): void;
}

/**
 * The real-time protocol client of the web dashboard and the TUI: ref-counted
 * topic subscriptions, snapshots + deltas applied in order, resume after a
 * reconnect, capped exponential backoff. It is an external store for React's
 * `useSyncExternalStore(client.subscribeStore, client.getSnapshot)`.
 */
export class LivestreamClient {
  readonly #options: ClientOptions;
  readonly #backoff: BackoffOptions;
  readonly #WebSocket: WebSocketConstructor;
  readonly #store = new TopicStore();
  readonly #listeners = new Set<() => void>();
  #state: ClientState = { status: 'offline', nextAttemptAt: null, attempts: 0, epoch: null };
  #snapshot: ClientSnapshot | null = null;
  #socket: WebSocketLike | null = null;
  #live = false;
  #stopped = true;
  #retryTimer: ReturnType<typeof setTimeout> | null = null;
  #livenessTimer: ReturnType<typeof setInterval> | null = null;
  #lastMessageAt = 0;
  #heartbeatMs = 30_000;
  readonly #pendingSubscribe = new Set<string>();
  readonly #pendingUnsubscribe = new Set<string>();
  #flushQueued = false;

  constructor(options: ClientOptions) {
    this.#options = options;
    this.#backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    const ctor =
      options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!ctor) throw new Error('No WebSocket implementation: pass options.WebSocket');
    this.#WebSocket = ctor;
  }

  /** Opens the connection (and keeps it open, reconnecting) until `close()`. */
  connect(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#watchBrowser(true);
    this.#open();
  }

  /** Closes the connection and stops reconnecting; held data stays readable. */
  close(): void {
    this.#stopped = true;
    this.#watchBrowser(false);
    this.#clearTimers();
    const socket = this.#socket;
    this.#socket = null;
    this.#live = false;
    socket?.close(1000, 'client closed');
    this.#setState({ status: 'offline', nextAttemptAt: null, attempts: 0 });
  }

  /** Wants a topic; returns the function that releases it. Ref-counted. */
  subscribe(name: string): () => void {
    if (this.#store.retain(name)) {
      this.#pendingUnsubscribe.delete(name);
      this.#pendingSubscribe.add(name);
      this.#queueFlush();
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (!this.#store.release(name)) return;
      this.#pendingSubscribe.delete(name);
      this.#pendingUnsubscribe.add(name);
      this.#queueFlush();
      this.#changed();
    };
  }

  getState(): ClientState {
    return this.#state;
  }

  /** Counters of applied, duplicate and out-of-order messages. */
  get stats(): Readonly<ClientStats> {
    return this.#store.stats;
  }

  /** The held state of a topic; the same object until that topic changes. */
  topic<K extends TopicKind>(name: TopicName<K>): TopicEntry<TopicData[K]> | undefined {
    return this.#store.entry(name) as TopicEntry<TopicData[K]> | undefined;
  }

  /** Listens to every change (connection or data). */
  on(listener: () => void): () => void {
    return this.subscribeStore(listener);
  }

  /** For `useSyncExternalStore`; a stable function. */
  readonly subscribeStore = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  };

  /** For `useSyncExternalStore`; a stable function returning a stable snapshot. */
  readonly getSnapshot = (): ClientSnapshot => {
    this.#snapshot ??= { connection: this.#state, topics: this.#store.entries() };
    return this.#snapshot;
  };

  #changed(): void {
    this.#snapshot = null;
    this.#notify();
  }

  /** Tells listeners without a new snapshot (stats only): React bails out, tests can wait. */
  #notify(): void {
    for (const listener of [...this.#listeners]) listener();
  }

  #setState(patch: Partial<ClientState>): void {
    const next = { ...this.#state, ...patch };
    const same = (Object.keys(next) as (keyof ClientState)[]).every(
      (key) => next[key] === this.#state[key],
    );
    if (same) return;
    this.#state = next;
    this.#changed();
  }

  #url(): string {
    const base = typeof this.#options.url === 'function' ? this.#options.url() : this.#options.url;
    if (!this.#options.token) return base;
    const separator = base.includes('?') ? '&' : '?';
    return `${base}${separator}token=${encodeURIComponent(this.#options.token)}`;
  }

  #open(): void {
    this.#clearTimers();
    this.#setState({
      status: this.#state.attempts === 0 ? 'connecting' : 'reconnecting',
      nextAttemptAt: null,
    });
    let socket: WebSocketLike;
    try {
      socket = new this.#WebSocket(this.#url());
    } catch {
      this.#scheduleReconnect();
      return;
    }
    this.#socket = socket;
    socket.addEventListener('message', (event: { data: unknown }) => {
      if (socket === this.#socket) this.#onMessage(event.data);
    });
    const onGone = () => {
      if (socket === this.#socket) this.#lost();
    };
    socket.addEventListener('close', onGone);
    socket.addEventListener('error', onGone);
  }

  #lost(): void {
    const socket = this.#socket;
    this.#socket = null;
    this.#live = false;
    this.#clearTimers();
    try {
      socket?.close();
    } catch {
      // Already closing.
    }
    if (!this.#stopped) this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    const attempts = this.#state.attempts + 1;
    const delay = backoffDelay(attempts, this.#backoff, Math.random());
    const navigatorLike = (globalThis as { navigator?: { onLine?: boolean } }).navigator;
    this.#setState({
      status: navigatorLike?.onLine === false ? 'offline' : 'reconnecting',
      attempts,
      nextAttemptAt: Date.now() + delay,
    });
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      this.#open();
    }, delay);
  }

  /** Reconnect at once when the browser comes back online or the tab is shown. */
  readonly #retryNow = (): void => {
    const documentLike = (globalThis as { document?: { visibilityState?: string } }).document;
    if (documentLike?.visibilityState === 'hidden') return;
    if (this.#stopped || this.#socket !== null) return;
    this.#open();
  };

  #watchBrowser(on: boolean): void {
    const win = (globalThis as { window?: EventSourceLike }).window;
    const doc = (globalThis as { document?: EventSourceLike }).document;
    if (!win || !doc) return;
    const method = on ? 'addEventListener' : 'removeEventListener';
    win[method]('online', this.#retryNow);
    doc[method]('visibilitychange', this.#retryNow);
  }

  #clearTimers(): void {
    if (this.#retryTimer !== null) clearTimeout(this.#retryTimer);
    if (this.#livenessTimer !== null) clearInterval(this.#livenessTimer);
    this.#retryTimer = null;
    this.#livenessTimer = null;
  }

  #send(message: ClientMessage): void {
    if (this.#socket?.readyState === OPEN) this.#socket.send(JSON.stringify(message));
  }

  #queueFlush(): void {
    if (this.#flushQueued || !this.#live) return;
    this.#flushQueued = true;
    queueMicrotask(() => {
      this.#flushQueued = false;
      if (this.#live) this.#flush();
    });
  }

  /** Sends queued (un)subscriptions, at most 256 topics a message (the server's limit). */
  #flush(): void {
    const chunks = (names: Set<string>) => {
      const list = [...names];
      names.clear();
      const out: string[][] = [];
      for (let i = 0; i < list.length; i += 256) out.push(list.slice(i, i + 256));
      return out;
    };
    for (const topics of chunks(this.#pendingUnsubscribe)) {
      this.#send({ type: 'unsubscribe', topics });
    }
    for (const topics of chunks(this.#pendingSubscribe)) this.#send({ type: 'subscribe', topics });
  }

  #onMessage(raw: unknown): void {
    this.#lastMessageAt = Date.now();
    let message: ServerMessage;
    try {
      message = JSON.parse(String(raw)) as ServerMessage;
    } catch {
      return;
    }
    const now = Date.now();
    switch (message.type) {
      case 'welcome':
        this.#onWelcome(message.epoch, message.heartbeatMs);
        return;
      case 'snapshot':
        if (this.#store.applySnapshot(message, now)) this.#changed();
        return;
      case 'delta': {
        const outcome = this.#store.applyDelta(message, now);
        if (outcome === 'applied') this.#changed();
        else if (outcome === 'gap') this.#resubscribe(message.topic);
        return;
      }
      case 'resync':
        this.#store.stats.resyncs++;
        if (message.reason !== 'slow_consumer') {
          this.#store.invalidate(this.#store.wanted());
        }
        this.#notify();
        return;
      case 'resumed':
        this.#store.stats.resumes++;
        this.#notify();
        return;
      case 'error':
        this.#options.onError?.(message);
        return;
      case 'pong':
        return;
    }
  }

  #resubscribe(name: string): void {
    this.#pendingSubscribe.add(name);
    this.#queueFlush();
  }

  #onWelcome(epoch: string, heartbeatMs: number): void {
    const previous = this.#state.epoch;
    this.#live = true;
    this.#heartbeatMs = Math.max(1_000, heartbeatMs);
    this.#startLiveness();
    const held = this.#store.resumable();
    const heldNames = Object.keys(held);
    this.#pendingSubscribe.clear();
    this.#pendingUnsubscribe.clear();
    if (previous !== null && heldNames.length > 0) {
      // The server decides: replay what we missed, or resync with snapshots.
      this.#send({ type: 'resume', epoch: previous, seq: this.#store.lastSeq, topics: held });
    }
    if (previous !== epoch) {
      this.#store.invalidate(heldNames);
      this.#store.resetSeq();
    }
    const rest = this.#store.wanted().filter((name) => !(name in held));
    this.#store.invalidate(rest);
    for (const name of rest) this.#pendingSubscribe.add(name);
    this.#flush();
    this.#setState({ status: 'live', attempts: 0, nextAttemptAt: null, epoch });
  }

  /**
   * Browsers cannot see protocol pings, so the client pings when the line is
   * quiet and reconnects when nothing at all arrived for two heartbeats.
   */
  #startLiveness(): void {
    if (this.#livenessTimer !== null) clearInterval(this.#livenessTimer);
    const interval = this.#heartbeatMs;
    this.#livenessTimer = setInterval(() => {
      const quiet = Date.now() - this.#lastMessageAt;
      if (quiet > 2 * interval) this.#lost();
      else if (quiet >= interval) this.#send({ type: 'ping' });
    }, interval);
  }
}
