/**
 * A subset of JSON Patch (RFC 6902) — `add`, `replace`, `remove` — plus one
 * op of our own, `merge`, used by the hub to send only what changed and by
 * clients to apply it. Unlike a merge patch, it can set a value to null.
 * Arrays that grow at the end (timelines, completed phases) are patched
 * element by element; any other array change replaces the array, which is why
 * collections in topics are keyed objects.
 */

/**
 * `merge` sets several keys of the object at `path` in one op: every key of
 * `value` is set to its value (null included), as `add`/`replace` of
 * `path/key` would; keys not in `value` are kept. It is shallow: an object in
 * `value` replaces that key's value whole. Removals stay `remove` ops.
 */
export type JsonPatchOp =
  | { op: 'add' | 'replace'; path: string; value: unknown }
  | { op: 'merge'; path: string; value: Record<string, unknown> }
  | { op: 'remove'; path: string };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `obj[key]` if it is the object's own: `{}`'s `__proto__` or `constructor` are not data. */
function ownValue(obj: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

/** Deep equality of JSON values; key order and `undefined` properties are ignored. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false;
    return true;
  }
  if (isObject(a) && isObject(b)) {
    let countA = 0;
    for (const key in a) {
      if (a[key] === undefined) continue;
      countA++;
      if (!jsonEqual(a[key], ownValue(b, key))) return false;
    }
    let countB = 0;
    for (const key in b) if (b[key] !== undefined) countB++;
    return countA === countB;
  }
  return false;
}

function escapeToken(token: string): string {
  return token.replaceAll('~', '~0').replaceAll('/', '~1');
}

function unescapeToken(token: string): string {
  return token.replaceAll('~1', '/').replaceAll('~0', '~');
}

/** Length of the ops as JSON, with the commas between them. */
function encodedLength(ops: readonly JsonPatchOp[]): number {
  let n = ops.length;
  for (const op of ops) n += JSON.stringify(op).length;
  return n;
}

/**
 * `JSON.stringify(value).length` when that is at most `limit`, otherwise some
 * number above `limit`, found without serialising more than `limit`
 * characters' worth: the diff only needs to know which form is shorter, and a
 * small change to a large map must not cost the map's serialisation.
 */
export function jsonLengthAtMost(value: unknown, limit: number): number {
  const over = limit + 1;
  let total = 0;
  const walk = (node: unknown, inArray: boolean): boolean => {
    if (total > limit) return false;
    switch (typeof node) {
      case 'string':
        // The escaped form is at least the characters plus two quotes.
        if (total + node.length + 2 > limit) {
          total = over;
          return false;
        }
        total += JSON.stringify(node).length;
        return total <= limit;
      case 'number':
        total += Number.isFinite(node) ? String(node).length : 4;
        return total <= limit;
      case 'boolean':
        total += node ? 4 : 5;
        return total <= limit;
      case 'object':
        break;
      default:
        // undefined, functions, symbols: `null` in arrays, skipped in objects (by the caller).
        if (inArray) total += 4;
        return total <= limit;
    }
    if (node === null) {
      total += 4;
      return total <= limit;
    }
    if (typeof (node as { toJSON?: unknown }).toJSON === 'function') {
      total += (JSON.stringify(node) ?? 'null').length;
      return total <= limit;
    }
    if (Array.isArray(node)) {
      total += 2 + Math.max(0, node.length - 1);
      for (const item of node) if (!walk(item, true)) return false;
      return total <= limit;
    }
    total += 2;
    let first = true;
    for (const key in node) {
      const item = (node as Record<string, unknown>)[key];
      if (item === undefined || typeof item === 'function' || typeof item === 'symbol') continue;
      if (!first) total += 1;
      first = false;
      total += JSON.stringify(key).length + 1;
      if (!walk(item, false)) return false;
    }
    return total <= limit;
  };
  walk(value, false);
  return total > limit ? over : total;
}

/**
 * The operations that turn `from` into `to` (empty when they are equal). In
 * every object that changed, each changed key either gets its own ops or goes
 * whole into one `merge` of that object, whichever is shorter as JSON; the
 * `merge` is used when it makes the whole shorter.
 */
export function diff(from: unknown, to: unknown, path = ''): JsonPatchOp[] {
  // No deep equality check up front: each level finds its own changes, so a
  // change deep in a large state costs one walk, not one per level. Shared
  // (identical) branches are skipped without building their paths.
  if (from === to) return [];
  if (Array.isArray(from) && Array.isArray(to)) return diffArrays(from, to, path);
  if (!isObject(from) || !isObject(to)) return [{ op: 'replace', path, value: to }];
  const removes: JsonPatchOp[] = [];
  for (const key in from) {
    if (from[key] !== undefined && ownValue(to, key) === undefined) {
      removes.push({ op: 'remove', path: `${path}/${escapeToken(key)}` });
    }
  }
  const fine: JsonPatchOp[] = [];
  const separate: JsonPatchOp[] = [];
  const merged: Record<string, unknown> = {};
  let saved = 0;
  for (const key in to) {
    const next = to[key];
    if (next === undefined) continue;
    const prev = ownValue(from, key);
    if (prev === next) continue;
    const child = `${path}/${escapeToken(key)}`;
    const ops: JsonPatchOp[] =
      prev === undefined ? [{ op: 'add', path: child, value: next }] : diff(prev, next, child);
    if (ops.length === 0) continue;
    fine.push(...ops);
    const own = encodedLength(ops);
    // Bounded: only whether the inline form is shorter than `own` matters.
    const inline = JSON.stringify(key).length + 2 + jsonLengthAtMost(next, own);
    if (inline < own) {
      defineKey(merged, key, next);
      saved += own - inline;
    } else {
      separate.push(...ops);
    }
  }
  const merge: JsonPatchOp = { op: 'merge', path, value: merged };
  // The merge op's own framing ({"op":"merge","path":…,"value":{}}) must be paid for.
  if (saved <= encodedLength([{ ...merge, value: {} }])) return [...removes, ...fine];
  return [...removes, merge, ...separate];
}

/**
 * Sets entries of the keyed collection `target` in place (an `undefined`
 * value deletes its entry) and returns the operations that do the same to a
 * copy of it held at `path`: what `diff` of the whole collection before and
 * after would say, at a cost proportional to the entries, not the collection.
 */
export function diffEntries(
  target: Record<string, unknown>,
  path: string,
  entries: ReadonlyMap<string, unknown>,
): JsonPatchOp[] {
  const ops: JsonPatchOp[] = [];
  for (const [key, value] of entries) {
    const prev = ownValue(target, key);
    const child = `${path}/${escapeToken(key)}`;
    if (value === undefined) {
      if (prev === undefined) continue;
      ops.push({ op: 'remove', path: child });
      delete target[key];
      continue;
    }
    if (prev === undefined) ops.push({ op: 'add', path: child, value });
    else ops.push(...diff(prev, value, child));
    defineKey(target, key, value);
  }
  return ops;
}

/**
 * An array that kept its prefix and grew (or had its last elements changed)
 * becomes per-element operations; anything else is one `replace`, which is
 * then no larger than the element operations would be.
 */
function diffArrays(from: unknown[], to: unknown[], path: string): JsonPatchOp[] {
  if (to.length < from.length) return [{ op: 'replace', path, value: to }];
  const ops: JsonPatchOp[] = [];
  let changed = 0;
  for (let i = 0; i < from.length; i++) {
    if (from[i] === to[i]) continue;
    const sub = diff(from[i], to[i], `${path}/${i}`);
    if (sub.length === 0) continue;
    if (++changed > 1) return [{ op: 'replace', path, value: to }];
    ops.push(...sub);
  }
  for (let i = from.length; i < to.length; i++)
    ops.push({ op: 'add', path: `${path}/${i}`, value: to[i] });
  return ops;
}

/** Thrown when a patch does not fit the document (the client then resubscribes). */
export class PatchError extends Error {}

/**
 * Applies operations immutably: the result shares every untouched branch with
 * `doc`, so React can skip what did not change.
 */
export function applyPatch<T>(doc: T, ops: readonly JsonPatchOp[]): T {
  let result: unknown = doc;
  for (const op of ops) result = applyOne(result, op);
  return result as T;
}

/** Sets an own property, even one named `__proto__` (JSON.parse makes those). */
function defineKey(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else {
    target[key] = value;
  }
}

function mergeInto(node: unknown, op: JsonPatchOp & { op: 'merge' }): Record<string, unknown> {
  if (!isObject(node)) throw new PatchError(`merge target ${op.path} is not an object`);
  if (!isObject(op.value)) throw new PatchError(`merge value for ${op.path} is not an object`);
  const copy: Record<string, unknown> = { ...node };
  for (const key of Object.keys(op.value)) defineKey(copy, key, op.value[key]);
  return copy;
}

function applyOne(doc: unknown, op: JsonPatchOp): unknown {
  if (op.path === '') {
    if (op.op === 'remove') throw new PatchError('cannot remove the root');
    if (op.op === 'merge') return mergeInto(doc, op);
    return op.value;
  }
  const tokens = op.path.slice(1).split('/').map(unescapeToken);
  return setIn(doc, tokens, 0, op);
}

function setInArray(node: unknown[], tokens: string[], i: number, op: JsonPatchOp): unknown {
  const key = tokens[i] as string;
  const last = i === tokens.length - 1;
  const index = key === '-' && last && op.op === 'add' ? node.length : Number(key);
  const limit = last && op.op === 'add' ? node.length : node.length - 1;
  if (!/^(0|[1-9]\d*|-)$/.test(key) || index > limit) {
    throw new PatchError(`path ${op.path} does not exist`);
  }
  const copy = node.slice();
  if (!last) copy[index] = setIn(copy[index], tokens, i + 1, op);
  else if (op.op === 'merge') copy[index] = mergeInto(copy[index], op);
  else if (op.op === 'remove') copy.splice(index, 1);
  else if (op.op === 'add') copy.splice(index, 0, op.value);
  else copy[index] = op.value;
  return copy;
}

function setIn(node: unknown, tokens: string[], i: number, op: JsonPatchOp): unknown {
  if (Array.isArray(node)) return setInArray(node, tokens, i, op);
  if (!isObject(node)) throw new PatchError(`path ${op.path} does not exist`);
  const key = tokens[i] as string;
  const copy: Record<string, unknown> = { ...node };
  const own = Object.hasOwn(copy, key);
  if (i === tokens.length - 1) {
    if (op.op === 'remove') {
      if (!own) throw new PatchError(`path ${op.path} does not exist`);
      delete copy[key];
    } else if (op.op === 'merge') {
      defineKey(copy, key, mergeInto(own ? copy[key] : undefined, op));
    } else {
      defineKey(copy, key, op.value);
    }
    return copy;
  }
  defineKey(copy, key, setIn(own ? copy[key] : undefined, tokens, i + 1, op));
  return copy;
}
