/**
 * Achievement ids and the numbers plan files use for them.
 *
 * The index names achievements with dotted ids ("1.2", "1.10", "11.0"); file
 * names carry the id without its dots (`SUBPLAN_<PLAN>_110.md`), which is
 * ambiguous: 110 may be 1.10 or 11.0. The rule, applied by `resolveNumber`:
 *
 * 1. A dotted number in a file name (`APPROVED_1.10.md`) is taken as written.
 * 2. Otherwise the number is matched against the index ids with their dots
 *    removed. One match: that achievement.
 * 3. Several matches (the index lists both 1.10 and 11.0): the achievement the
 *    file declares in its text (`**Achievement**: 11.0`) when it declares one
 *    of them; else the one with the shortest major (1.10 — the convention of
 *    the files' producer, which writes major as one digit), with a warning.
 * 4. No match: the file is for an achievement the index does not list. Its id
 *    is guessed by splitting the number after a major the index uses (the
 *    shortest such), else after the first digit ("12" → "1.2").
 */

/** The id without its dots: "1.10" → "110". */
export function compactId(id: string): string {
  return id.replaceAll('.', '');
}

const DOTTED = /^\d+(?:\.\d+)+$/;
const NUMBER = /^\d+$/;

/** Index ids grouped by their compact number, in index order. */
export type NumberTable = Map<string, string[]>;

export function numberTable(ids: readonly string[]): NumberTable {
  const table: NumberTable = new Map();
  for (const id of ids) {
    const key = compactId(id);
    const list = table.get(key);
    if (list) list.push(id);
    else table.set(key, [id]);
  }
  return table;
}

/** Compact numbers that name more than one indexed achievement. */
export function ambiguousNumbers(table: NumberTable): Set<string> {
  const out = new Set<string>();
  for (const [key, ids] of table) if (ids.length > 1) out.add(key);
  return out;
}

function majorOf(id: string): string {
  const dot = id.indexOf('.');
  return dot < 0 ? id : id.slice(0, dot);
}

export interface ResolvedNumber {
  id: string;
  indexed: boolean;
  /** Set when the number matched several indexed ids and no declaration decided. */
  ambiguousWith: string[] | null;
}

/**
 * Resolves a file's achievement number (dotted or not) to an achievement id.
 * `majors` are the majors the index uses; `declared` is what the file says
 * about itself, when read. Returns null for text that is not a number.
 */
export function resolveNumber(
  num: string,
  table: NumberTable,
  indexed: ReadonlySet<string>,
  majors: ReadonlySet<string>,
  declared?: string | null,
): ResolvedNumber | null {
  if (DOTTED.test(num)) return { id: num, indexed: indexed.has(num), ambiguousWith: null };
  if (!NUMBER.test(num)) return null;
  const candidates = table.get(num);
  if (candidates && candidates.length === 1) {
    return { id: candidates[0] as string, indexed: true, ambiguousWith: null };
  }
  if (candidates && candidates.length > 1) {
    if (declared && candidates.includes(declared)) {
      return { id: declared, indexed: true, ambiguousWith: null };
    }
    const chosen = [...candidates].sort((a, b) => majorOf(a).length - majorOf(b).length)[0];
    return { id: chosen as string, indexed: true, ambiguousWith: candidates };
  }
  if (declared && compactId(declared) === num && DOTTED.test(declared)) {
    return { id: declared, indexed: false, ambiguousWith: null };
  }
  if (num.length === 1) return { id: num, indexed: indexed.has(num), ambiguousWith: null };
  for (let cut = 1; cut < num.length; cut++) {
    if (majors.has(num.slice(0, cut))) {
      return { id: `${num.slice(0, cut)}.${num.slice(cut)}`, indexed: false, ambiguousWith: null };
    }
  }
  return { id: `${num.slice(0, 1)}.${num.slice(1)}`, indexed: false, ambiguousWith: null };
}

/** Orders achievement ids numerically, part by part ("1.2" < "1.10" < "2.0" < "11.0"). */
export function compareIds(a: string, b: string): number {
  const pa = a.split('.');
  const pb = b.split('.');
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = Number(pa[i] ?? -1) - Number(pb[i] ?? -1);
    if (d !== 0) return d;
  }
  return 0;
}

/** Every indexed id's major, for guessing the ids of unindexed files. */
export function majorsOf(ids: readonly string[]): Set<string> {
  return new Set(ids.map(majorOf));
}
