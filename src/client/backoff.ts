/** Reconnect delays: exponential from `initialMs`, capped at `maxMs`. */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 5_000 };

/**
 * Delay before reconnect attempt `attempt` (1-based): initial × 2^(attempt-1),
 * capped, with ±20 % jitter so a restarted server is not hit by every client
 * in the same millisecond. `random` is in [0, 1).
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: number): number {
  const base = Math.min(options.maxMs, options.initialMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(Math.min(options.maxMs, base * (0.8 + 0.4 * random)));
}
