/** An extra field whose JSON is longer than this is summarised, not shipped with every status. */
export const MAX_EXTRA_CHARS = 2048;
/** Extra fields a status carries at most; the rest are left out of it (kept in the stored document). */
export const MAX_EXTRA_FIELDS = 32;
/** JSON characters all the extras of one status may take together. */
export const MAX_EXTRAS_CHARS = 8192;
/** An extra field's name is cut to this many characters. */
export const MAX_EXTRA_KEY_CHARS = 100;

/** A status's extras, and how many of the producer's fields are not shown in full there. */
export interface BoundedExtras {
  extras: Record<string, unknown>;
  /** Fields summarised or left out: the whole values are in the stored document. */
  omitted: number;
}

function size(chars: number): string {
  return chars < 1024 ? `${chars} characters` : `${(chars / 1024).toFixed(1)} KB`;
}

/**
 * Keeps small extras as written and replaces large ones with a summary: an
 * object keeps its keys, each large value described by its size ("research:
 * 80.1 KB of text"). The ralph runner puts whole spec texts in `artifacts`; a
 * status carrying them would be tens of kilobytes on every change. Past
 * `MAX_EXTRA_FIELDS` fields or `MAX_EXTRAS_CHARS` in all, further fields are
 * left out: a push of a thousand small fields would otherwise put a
 * megabyte into every status, and into the sessions list every viewer holds.
 */
export function summariseExtras(
  extras: Record<string, unknown>,
  limits: { fields: number; chars: number } = {
    fields: MAX_EXTRA_FIELDS,
    chars: MAX_EXTRAS_CHARS,
  },
): BoundedExtras {
  const out: Record<string, unknown> = {};
  let omitted = 0;
  let fields = 0;
  let used = 2;
  for (const [rawKey, value] of Object.entries(extras)) {
    const key = cutText(rawKey, MAX_EXTRA_KEY_CHARS);
    const shown = summariseValue(value);
    const chars = key.length + (JSON.stringify(shown)?.length ?? 4) + 4;
    if (fields >= limits.fields || used + chars > limits.chars || Object.hasOwn(out, key)) {
      omitted++;
      continue;
    }
    setOwn(out, key, shown);
    fields++;
    used += chars;
    if (shown !== value || key !== rawKey) omitted++;
  }
  return { extras: out, omitted };
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
      setOwn(
        out,
        k,
        inner.length <= MAX_EXTRA_CHARS / 8
          ? v
          : typeof v === 'string'
            ? `${size(v.length)} of text (not shown)`
            : `${size(inner.length)} (not shown)`,
      );
    }
    // Many small keys stay large however each is summarised.
    if ((JSON.stringify(out)?.length ?? 0) > MAX_EXTRA_CHARS) {
      return `${Object.keys(value).length} fields, ${size(json.length)} (not shown)`;
    }
    return out;
  }
  return value;
}

/**
 * `text` cut to at most `max` characters, ending in `…` when cut (never
 * between the halves of a surrogate pair).
 */
export function cutText(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - 1;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${text.slice(0, end)}…`;
}

/** An own property, whatever its name: `__proto__` from a parsed file is a field, not a prototype. */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}
