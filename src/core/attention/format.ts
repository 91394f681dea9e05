/** "42 s", "12 min", "1 h 5 min": a span for a sentence. */
export function formatSpan(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  const rest = m % 60;
  if (h < 48) return rest === 0 ? `${h} h` : `${h} h ${rest} min`;
  return `${Math.floor(h / 24)} d`;
}

/** 61200 → "61,200". */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** 3.1 → "$3.10". */
export function formatUsd(n: number): string {
  return `$${n.toFixed(2)}`;
}
