/**
 * The one reading of producer timestamps (phase files, checkpoints,
 * `session.jsonl`, `events.jsonl`, broadcasts) as epoch milliseconds.
 *
 * The rule:
 * - A number, or a string of digits, is epoch time: below 1e11 it is seconds
 *   (1e11 s is the year 5138), otherwise milliseconds; zero, negative or
 *   non-finite is missing.
 * - An ISO-8601 string `YYYY-MM-DD[(T| )hh:mm[:ss[.fff…]][zone]]` honours its
 *   zone (`Z`, `±hh`, `±hhmm`, `±hh:mm`); WITHOUT a zone it is UTC — never the
 *   machine's local time (producers write Python `isoformat()` of UTC clocks and
 *   LLMs write zone-less times; see formats.md). A date alone is UTC midnight.
 * - An RFC 2822 / HTTP date that names its zone (`GMT`, `UTC`, `UT`, `Z`,
 *   `±hhmm`) is honoured too.
 * - Anything else (garbage, impossible dates such as Feb 30 or 25:00, values
 *   outside what `Date` can hold) is missing: null, never a throw.
 *
 * Pure: no clock and no time zone of the machine is consulted, so the same text
 * gives the same instant everywhere. Plausibility (e.g. "not before 2000",
 * "not after now") is a caller's policy, not part of this rule.
 */
export function parseInstant(value: unknown): number | null {
  if (typeof value === 'number') return fromEpoch(value);
  if (typeof value !== 'string') return null;
  const text = value.trim();
  if (text.length === 0 || text.length > 64) return null;
  if (/^\d+(?:\.\d+)?$/.test(text)) return fromEpoch(Number(text));
  return fromIso(text) ?? fromRfc2822(text);
}

/** Epoch seconds below this are read as seconds, at or above as milliseconds. */
export const EPOCH_SECONDS_BELOW = 1e11;

/** Largest magnitude `Date` can represent (±100,000,000 days). */
const MAX_DATE_MS = 8_640_000_000_000_000;

function fromEpoch(value: number): number | null {
  if (!Number.isFinite(value) || value <= 0) return null;
  const ms = Math.round(value < EPOCH_SECONDS_BELOW ? value * 1000 : value);
  return ms <= MAX_DATE_MS ? ms : null;
}

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?)?$/;

function fromIso(text: string): number | null {
  const m = ISO.exec(text);
  if (!m) return null;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', zone] = m;
  const ms = Number(frac.slice(0, 3).padEnd(3, '0'));
  const offset = zone === undefined ? 0 : zoneOffsetMinutes(zone);
  if (offset === null) return null;
  return utc(Number(y), Number(mo), Number(d), Number(h), Number(mi), Number(s), ms, offset);
}

/** Minutes east of UTC for `Z`/`±hh`/`±hhmm`/`±hh:mm`; null when out of range. */
function zoneOffsetMinutes(zone: string): number | null {
  if (zone === 'Z' || zone === 'z') return 0;
  const digits = zone.slice(1).replace(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = digits.length > 2 ? Number(digits.slice(2)) : 0;
  if (hours > 23 || minutes > 59) return null;
  return (zone.startsWith('-') ? -1 : 1) * (hours * 60 + minutes);
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const RFC2822 =
  /^(?:[a-z]{3},?\s+)?(\d{1,2})\s+([a-z]{3})\s+(\d{4})\s+(\d{2}):(\d{2})(?::(\d{2}))?\s+(gmt|utc|ut|z|[+-]\d{4})$/i;

function fromRfc2822(text: string): number | null {
  const m = RFC2822.exec(text);
  if (!m) return null;
  const [, d, mon = '', y, h, mi, s = '0', zone = ''] = m;
  const month = MONTHS.indexOf(mon.toLowerCase()) + 1;
  if (month === 0) return null;
  const offset = /^[+-]/.test(zone) ? zoneOffsetMinutes(zone) : 0;
  if (offset === null) return null;
  return utc(Number(y), month, Number(d), Number(h), Number(mi), Number(s), 0, offset);
}

/** The instant of a wall-clock reading at `offset` minutes east of UTC; null when impossible. */
function utc(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  ms: number,
  offset: number,
): number | null {
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  // 24:00 (end of day) is ISO-8601; any other hour past 23, minute or second past 59 is not.
  const endOfDay = hour === 24 && minute === 0 && second === 0 && ms === 0;
  if ((hour > 23 && !endOfDay) || minute > 59 || second > 59) return null;
  const date = new Date(0);
  // setUTCFullYear, unlike Date.UTC, does not map years 0..99 to 1900..1999.
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, ms);
  const at = date.getTime() - offset * 60_000;
  return Number.isFinite(at) && Math.abs(at) <= MAX_DATE_MS ? at : null;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}
