import { compareIds } from './ids.ts';
import type { ParallelEntry } from './parse.ts';

/**
 * Groups the achievements of parallel.json into waves that may run in
 * parallel: an achievement's wave is one after its latest dependency's.
 * Dependencies outside parallel.json count as already satisfied for grouping.
 * Achievements caught in a dependency cycle form a last group, with a warning.
 * Within a group, index order (then numeric order for ids the index lacks).
 */
export function parallelGroups(
  entries: readonly ParallelEntry[],
  indexIds: readonly string[],
  warnings: string[],
): string[][] {
  if (entries.length === 0) return [];
  const deps = new Map<string, string[]>();
  for (const e of entries) deps.set(e.id, e.dependencies);
  const wave = new Map<string, number>();
  const visiting = new Set<string>();
  const cyclic = new Set<string>();

  const waveOf = (id: string): number => {
    const known = wave.get(id);
    if (known !== undefined) return known;
    if (visiting.has(id)) {
      cyclic.add(id);
      return -1;
    }
    visiting.add(id);
    let level = 0;
    for (const dep of deps.get(id) ?? []) {
      if (!deps.has(dep)) continue;
      const d = waveOf(dep);
      if (d < 0) {
        cyclic.add(id);
        level = -1;
        break;
      }
      level = Math.max(level, d + 1);
    }
    visiting.delete(id);
    wave.set(id, level);
    return level;
  };
  for (const e of entries) waveOf(e.id);

  const position = new Map(indexIds.map((id, i) => [id, i]));
  const order = (a: string, b: string) =>
    (position.get(a) ?? Infinity) - (position.get(b) ?? Infinity) || compareIds(a, b);
  const groups: string[][] = [];
  for (const [id, level] of wave) {
    if (level < 0) continue;
    const group = groups[level] ?? [];
    group.push(id);
    groups[level] = group;
  }
  const result = groups.filter((g) => g.length > 0).map((g) => g.sort(order));
  if (cyclic.size > 0) {
    const members = [...cyclic].sort(order);
    warnings.push(`parallel.json has a dependency cycle among ${members.join(', ')}.`);
    result.push(members);
  }
  return result;
}
