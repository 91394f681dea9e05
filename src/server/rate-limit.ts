/**
 * A token bucket per client address, for the POST endpoints: an orchestrator
 * pushes a few updates a second; a flood gets 429 and the server stays
 * responsive for everyone else.
 */
export class RateLimiter {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  readonly #ratePerSec: number;
  readonly #burst: number;
  readonly #maxClients: number;

  constructor(options: { ratePerSec: number; burst: number; maxClients?: number }) {
    this.#ratePerSec = options.ratePerSec;
    this.#burst = options.burst;
    this.#maxClients = options.maxClients ?? 10_000;
  }

  /** Takes one token; returns the seconds to wait when there is none. */
  take(key: string, now: number): { ok: true } | { ok: false; retryAfterSec: number } {
    let bucket = this.#buckets.get(key);
    if (!bucket) {
      if (this.#buckets.size >= this.#maxClients) this.#evictFull(now);
      bucket = { tokens: this.#burst, at: now };
      this.#buckets.set(key, bucket);
    }
    bucket.tokens = Math.min(
      this.#burst,
      bucket.tokens + ((now - bucket.at) / 1000) * this.#ratePerSec,
    );
    bucket.at = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterSec: Math.ceil((1 - bucket.tokens) / this.#ratePerSec) };
  }

  /** Buckets that refilled completely carry no information: drop them to bound memory. */
  #evictFull(now: number): void {
    for (const [key, bucket] of this.#buckets) {
      const tokens = bucket.tokens + ((now - bucket.at) / 1000) * this.#ratePerSec;
      if (tokens >= this.#burst) this.#buckets.delete(key);
    }
    if (this.#buckets.size >= this.#maxClients) {
      const oldest = this.#buckets.keys().next().value;
      if (oldest !== undefined) this.#buckets.delete(oldest);
    }
  }
}
