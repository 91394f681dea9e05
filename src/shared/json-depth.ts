/**
 * Nesting limits for JSON that enters from outside (HTTP bodies, files, JSONL
 * lines). A document nested a few thousand levels is only a few KB, yet every
 * recursive walk over it (JSON.stringify, diff, zod) overflows the stack; the
 * state it would enter is shared by every session, so it is refused at the
 * boundary instead. Real producers nest a handful of levels.
 */

/** Deepest nesting of objects and arrays accepted from outside. */
export const MAX_JSON_DEPTH = 64;

/**
 * The nesting depth of JSON text, scanning characters (no recursion, no
 * parse), stopping as soon as it passes `limit`. Brackets inside strings do
 * not count. Text that is not JSON gets a depth too; parsing decides the rest.
 */
export function jsonTextDepth(text: string, limit = MAX_JSON_DEPTH): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth > max) {
        max = depth;
        if (max > limit) return max;
      }
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}

/** True when `text` nests objects/arrays deeper than `limit`. */
export function jsonTextTooDeep(text: string, limit = MAX_JSON_DEPTH): boolean {
  return jsonTextDepth(text, limit) > limit;
}

/**
 * True when a parsed value nests deeper than `limit` (iterative, so any depth
 * is answered without overflowing the stack).
 */
export function jsonValueTooDeep(value: unknown, limit = MAX_JSON_DEPTH): boolean {
  const stack: { node: unknown; depth: number }[] = [{ node: value, depth: 0 }];
  while (stack.length > 0) {
    const { node, depth } = stack.pop() as { node: unknown; depth: number };
    if (typeof node !== 'object' || node === null) continue;
    if (depth + 1 > limit) return true;
    const children = Array.isArray(node) ? node : Object.values(node);
    for (const child of children) {
      if (typeof child === 'object' && child !== null)
        stack.push({ node: child, depth: depth + 1 });
    }
  }
  return false;
}

/** The sentence every refusal of a too-deep document uses. */
export function tooDeepMessage(what: string, limit = MAX_JSON_DEPTH): string {
  return `${what} nests objects or arrays more than ${limit} levels deep; flatten it`;
}
