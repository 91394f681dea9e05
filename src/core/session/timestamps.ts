import { parseInstant } from '../time.ts';

/** Earliest and latest plausible instants (2000-01-01 .. 2200-01-01). */
const MIN_MS = 946_684_800_000;
const MAX_MS = 7_258_118_400_000;

/**
 * Parses a timestamp written by an LLM (`started_at`, `last_updated`, …):
 * read by the shared rule of `parseInstant` (ISO-8601 without a zone is UTC,
 * epoch seconds or milliseconds accepted), then, because LLMs invent dates,
 * anything outside 2000..2200 is null too. Never throws.
 */
export function parseLlmTimestamp(value: unknown): number | null {
  const ms = parseInstant(value);
  return ms !== null && ms >= MIN_MS && ms <= MAX_MS ? ms : null;
}
