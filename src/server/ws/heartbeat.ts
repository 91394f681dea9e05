import type { WebSocket } from 'ws';

/**
 * Pings every socket each `intervalMs`; one that has not answered the
 * previous ping by then is terminated (a dead peer or a half-open TCP link).
 * One unref'd timer for all sockets, so an idle server costs nothing.
 */
export class Heartbeat {
  readonly #alive = new Map<WebSocket, boolean>();
  readonly #timer: NodeJS.Timeout;

  constructor(intervalMs: number) {
    this.#timer = setInterval(() => this.#beat(), intervalMs);
    this.#timer.unref();
  }

  add(ws: WebSocket): void {
    this.#alive.set(ws, true);
    const mark = () => {
      if (this.#alive.has(ws)) this.#alive.set(ws, true);
    };
    ws.on('pong', mark);
    ws.on('message', mark);
    ws.once('close', () => this.#alive.delete(ws));
  }

  get size(): number {
    return this.#alive.size;
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  #beat(): void {
    for (const [ws, alive] of this.#alive) {
      if (!alive) {
        this.#alive.delete(ws);
        ws.terminate();
        continue;
      }
      this.#alive.set(ws, false);
      ws.ping();
    }
  }
}
