/** Client-side time arithmetic: the server never sends ages, so every "N s ago" is computed here. */

/** A running session with no change for this long is marked stale. */
export const STALE_AFTER_MS = 5 * 60_000;

export type Freshness = 'fresh' | 'aging' | 'old' | 'never';

/** Green under 5 s, yellow under 30 s, red after (the seed's colour code). */
export function freshness(at: number | null, now: number): Freshness {
  if (at === null) return 'never';
  const age = now - at;
  if (age < 5_000) return 'fresh';
  if (age < 30_000) return 'aging';
  return 'old';
}

/** "3 s ago", "4 min ago", "2 h ago"; clocks slightly ahead read as "just now". */
export function formatAgo(at: number | null, now: number): string {
  if (at === null) return 'never';
  const s = Math.floor((now - at) / 1000);
  if (s < 1) return 'just now';
  if (s < 60) return `${s} s ago`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ago`;
  return `${Math.floor(h / 24)} d ago`;
}

/** "45 s", "3 min 20 s", "1 h 05 min". */
export function formatDuration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '—';
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, '0')} s`;
  const h = Math.floor(m / 60);
  return `${h} h ${String(m % 60).padStart(2, '0')} min`;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** Local wall-clock time, "14:05:09". Hand-made: it runs for every visible log row. */
export function formatClock(at: number): string {
  const d = new Date(at);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** One formatter for the page: building one per call is the costly part of Intl. */
const DATE_TIME = new Intl.DateTimeFormat(undefined, {
  dateStyle: 'medium',
  timeStyle: 'medium',
  hour12: false,
});

/** Local date and time, for past sessions. */
export function formatDateTime(at: number | null): string {
  if (at === null || !Number.isFinite(at)) return '—';
  return DATE_TIME.format(at);
}

/** Seconds until `at`, never negative. */
export function secondsUntil(at: number, now: number): number {
  return Math.max(0, Math.ceil((at - now) / 1000));
}

export function formatNumber(n: number | null): string {
  return n === null ? '—' : n.toLocaleString('en-US');
}

/** Axis labels that fit a narrow gutter: 950, 12k, 340k, 1.2M, 3B. */
export function compactCount(n: number): string {
  const a = Math.abs(n);
  const fmt = (v: number, unit: string) => `${Number(v.toFixed(v < 10 ? 1 : 0))}${unit}`;
  if (a >= 1e9) return fmt(n / 1e9, 'B');
  if (a >= 1e6) return fmt(n / 1e6, 'M');
  if (a >= 1e3) return fmt(n / 1e3, 'k');
  return String(Math.round(n));
}
