/**
 * A subset of JSON Patch (RFC 6902) — `add`, `replace`, `remove` — used by the
 * hub to send only what changed and by clients to apply it. Unlike a merge
 * patch, it can set a value to null. Arrays that grow at the end (timelines,
 * completed phases) are patched element by element; any other array change
 * replaces the array, which is why collections in topics are keyed objects.
 */

export type JsonPatchOp =
  | { op: 'add' | 'replace'; path: string; value: unknown }
  | { op: 'remove'; path: string };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
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
      if (!jsonEqual(a[key], b[key])) return false;
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

/** The operations that turn `from` into `to` (empty when they are equal). */
export function diff(from: unknown, to: unknown, path = ''): JsonPatchOp[] {
  if (jsonEqual(from, to)) return [];
  if (Array.isArray(from) && Array.isArray(to)) return diffArrays(from, to, path);
  if (!isObject(from) || !isObject(to)) return [{ op: 'replace', path, value: to }];
  const ops: JsonPatchOp[] = [];
  for (const key in from) {
    if (from[key] !== undefined && to[key] === undefined) {
      ops.push({ op: 'remove', path: `${path}/${escapeToken(key)}` });
    }
  }
  for (const key in to) {
    const next = to[key];
    if (next === undefined) continue;
    const prev = from[key];
    const child = `${path}/${escapeToken(key)}`;
    if (prev === undefined) ops.push({ op: 'add', path: child, value: next });
    else ops.push(...diff(prev, next, child));
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

function applyOne(doc: unknown, op: JsonPatchOp): unknown {
  if (op.path === '') {
    if (op.op === 'remove') throw new PatchError('cannot remove the root');
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
  if (i === tokens.length - 1) {
    if (op.op === 'remove') {
      if (!(key in copy)) throw new PatchError(`path ${op.path} does not exist`);
      delete copy[key];
    } else {
      copy[key] = op.value;
    }
    return copy;
  }
  copy[key] = setIn(copy[key], tokens, i + 1, op);
  return copy;
}
