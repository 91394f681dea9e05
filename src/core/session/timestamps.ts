const HAS_ZONE = /(?:z|[+-]\d{2}(?::?\d{2})?)$/i;
const ISO_LIKE = /^\d{4}-\d{2}-\d{2}(?:[t ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?/i;

/** Earliest and latest plausible instants (2000-01-01 .. 2200-01-01). */
const MIN_MS = 946_684_800_000;
const MAX_MS = 7_258_118_400_000;

/**
 * Parses a timestamp written by an LLM. ISO-8601 without a zone is taken as
 * UTC; epoch seconds or milliseconds are accepted; anything else (garbage,
 * absurd years) is null. Never throws.
 */
export function parseLlmTimestamp(value: unknown): number | null {
  if (typeof value === 'number') return fromEpoch(value);
  if (typeof value !== 'string') return null;
  const text = value.trim();
  if (text.length === 0 || text.length > 64) return null;
  if (/^\d+(?:\.\d+)?$/.test(text)) return fromEpoch(Number(text));
  if (!ISO_LIKE.test(text)) return null;
  let iso = text.replace(' ', 'T');
  // A date alone is already UTC for Date.parse; a date-time without zone would be local.
  if (iso.includes('T') && !HAS_ZONE.test(iso)) iso = `${iso}Z`;
  const ms = Date.parse(iso);
  return Number.isFinite(ms) && ms >= MIN_MS && ms <= MAX_MS ? ms : null;
}

function fromEpoch(value: number): number | null {
  if (!Number.isFinite(value) || value <= 0) return null;
  const ms = value < 1e11 ? value * 1000 : value;
  return ms >= MIN_MS && ms <= MAX_MS ? Math.round(ms) : null;
}
