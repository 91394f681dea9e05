/**
 * Per-file read coalescing shared by the file handlers. A read's outcome is
 * bad when its `kind` is `'problem'`; every other outcome is delivered as is.
 */

/** First delay before a bad read that `retryable` accepts is read again, doubled up to `RETRY_MAX_MS`. */
export const RETRY_FIRST_MS = 500;
export const RETRY_MAX_MS = 30_000;

/** How long a bad read waits for the write that completes it before it is reported. */
export const CONFIRM_MS = 300;

/**
 * Re-read delays after a bad read, before the confirmation: an in-place
 * rewrite truncates and writes within microseconds, so the content is usually
 * complete a few milliseconds later — well before the watcher's next event.
 */
export const QUICK_REREAD_MS: readonly number[] = [2, 8, 25, 60];

interface Burst {
  running: Promise<void> | null;
  dirty: boolean;
  /** The last read was bad and not reported yet. */
  suspect: boolean;
  /** When the first unreported bad read happened (performance.now()). */
  suspectSince: number;
  /** Quick re-reads done since then. */
  rereads: number;
  /** Delay of the last retry of a reported, retryable bad read (0: none). */
  retryMs: number;
  timer: NodeJS.Timeout | null;
}

/**
 * Per-file burst coalescing. The first event is read at once; events during a
 * read fold into one trailing re-read. A bad read (empty, half-written) is
 * re-read quickly a few times and only reported when it is still bad
 * `confirmMs` after it was first seen, so an in-place rewrite (`cat > file`)
 * never flashes a warning and its content arrives within milliseconds.
 */
export class BurstReader<O extends { kind: string } = { kind: string }> {
  readonly #bursts = new Map<string, Burst>();
  readonly #read: (key: string) => Promise<O>;
  readonly #deliver: (outcome: O) => void;
  readonly #confirmMs: number;
  readonly #retryable: (outcome: O) => boolean;
  #closed = false;

  constructor(opts: {
    read: (key: string) => Promise<O>;
    deliver: (outcome: O) => void;
    confirmMs?: number;
    /**
     * A bad read that is not the file's fault (out of file descriptors): once
     * reported, it is read again with backoff until it reads otherwise, since
     * no write may come to trigger a new read.
     */
    retryable?: (outcome: O) => boolean;
  }) {
    this.#read = opts.read;
    this.#deliver = opts.deliver;
    this.#confirmMs = opts.confirmMs ?? CONFIRM_MS;
    this.#retryable = opts.retryable ?? (() => false);
  }

  /** Schedules a read of `key`; resolves when the burst it joined is fully read. */
  notify(key: string): Promise<void> {
    if (this.#closed) return Promise.resolve();
    let burst = this.#bursts.get(key);
    if (!burst) {
      burst = {
        running: null,
        dirty: false,
        suspect: false,
        suspectSince: 0,
        rereads: 0,
        retryMs: 0,
        timer: null,
      };
      this.#bursts.set(key, burst);
    }
    if (burst.running) {
      burst.dirty = true;
      return burst.running;
    }
    const current = burst;
    current.running = this.#loop(key, current).finally(() => {
      current.running = null;
      if (!current.suspect && !current.timer) this.#bursts.delete(key);
    });
    return current.running;
  }

  /** Cancels pending confirmation re-reads. */
  close(): void {
    this.#closed = true;
    for (const burst of this.#bursts.values()) if (burst.timer) clearTimeout(burst.timer);
    this.#bursts.clear();
  }

  async #loop(key: string, burst: Burst): Promise<void> {
    if (burst.timer) clearTimeout(burst.timer);
    burst.timer = null;
    do {
      burst.dirty = false;
      const outcome = await this.#read(key);
      if (this.#closed) return;
      if (outcome.kind !== 'problem') {
        burst.suspect = false;
        burst.retryMs = 0;
        this.#deliver(outcome);
        continue;
      }
      if (!burst.suspect) {
        burst.suspect = true;
        burst.suspectSince = performance.now();
        burst.rereads = 0;
      }
      // A newer write is already on its way: its read decides.
      if (burst.dirty) continue;
      const waited = performance.now() - burst.suspectSince;
      if (waited >= this.#confirmMs) {
        burst.suspect = false;
        // Reported once (the session keeps its last good state meanwhile), then read again later.
        if (burst.retryMs === 0 || !this.#retryable(outcome)) this.#deliver(outcome);
        if (this.#retryable(outcome)) this.#retryLater(key, burst);
        else burst.retryMs = 0;
        continue;
      }
      const quick = QUICK_REREAD_MS[burst.rereads++] ?? this.#confirmMs;
      burst.timer = setTimeout(
        () => {
          burst.timer = null;
          void this.notify(key);
        },
        Math.min(quick, this.#confirmMs - waited),
      );
      burst.timer.unref();
    } while (burst.dirty);
  }

  #retryLater(key: string, burst: Burst): void {
    if (burst.dirty) return; // A newer write's read comes first.
    burst.retryMs =
      burst.retryMs === 0 ? RETRY_FIRST_MS : Math.min(burst.retryMs * 2, RETRY_MAX_MS);
    burst.timer = setTimeout(() => {
      burst.timer = null;
      void this.notify(key);
    }, burst.retryMs);
    burst.timer.unref();
  }
}
