/**
 * At most `limit` calls running at once, the rest waiting in order: the
 * first scan of a tree of 20,000 folders would otherwise list and look at
 * them all at once and run out of file descriptors on its own.
 */
export class IoLimit {
  readonly #limit: number;
  #running = 0;
  /** Calls waiting for a slot, from `#head` on (`shift` is linear on a long array). */
  #queue: ((() => void) | undefined)[] = [];
  #head = 0;
  #closed = false;

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Runs `call` when a slot is free; rejects with ECANCELED once closed, without calling it. */
  async run<T>(call: () => Promise<T>): Promise<T> {
    if (this.#running >= this.#limit) await new Promise<void>((go) => this.#queue.push(go));
    if (this.#closed) throw canceled();
    this.#running++;
    try {
      return await call();
    } finally {
      this.#running--;
      this.#next();
    }
  }

  /** The waiting calls are let go without running (their owner closed), and any later one. */
  close(): void {
    this.#closed = true;
    const waiting = this.#queue.slice(this.#head);
    this.#queue = [];
    this.#head = 0;
    for (const go of waiting) go?.();
  }

  #next(): void {
    if (this.#head >= this.#queue.length) return;
    const go = this.#queue[this.#head];
    this.#queue[this.#head++] = undefined;
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    go?.();
  }
}

function canceled(): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error('closed before it ran');
  error.code = 'ECANCELED';
  return error;
}
