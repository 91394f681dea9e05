/** An extra field whose JSON is longer than this is summarised, not shipped with every status. */
export const MAX_EXTRA_CHARS = 2048;

function size(chars: number): string {
  return chars < 1024 ? `${chars} characters` : `${(chars / 1024).toFixed(1)} KB`;
}

/**
 * Keeps small extras as written and replaces large ones with a summary: an
 * object keeps its keys, each large value described by its size ("research:
 * 80.1 KB of text"). The ralph runner puts whole spec texts in `artifacts`; a
 * status carrying them would be tens of kilobytes on every change.
 */
export function summariseExtras(extras: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(extras)) out[key] = summariseValue(value);
  return out;
}

function summariseValue(value: unknown): unknown {
  const json = JSON.stringify(value) ?? '';
  if (json.length <= MAX_EXTRA_CHARS) return value;
  if (typeof value === 'string') return `${size(value.length)} of text (not shown)`;
  if (Array.isArray(value)) return `${value.length} items, ${size(json.length)} (not shown)`;
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const inner = JSON.stringify(v) ?? '';
      out[k] =
        inner.length <= MAX_EXTRA_CHARS / 8
          ? v
          : typeof v === 'string'
            ? `${size(v.length)} of text (not shown)`
            : `${size(inner.length)} (not shown)`;
    }
    return out;
  }
  return value;
}
