import { basename, isAbsolute, relative, sep } from 'node:path';
import { derivePlan } from '../../core/plans/derive.ts';
import type { PlanDetail } from '../../shared/plans.ts';
import { discoverPlans, groupOf, mapLimit, readPlanFolder } from './read.ts';

/**
 * The plans of one plans folder, derived and cached. A plan is re-read only
 * after `markChanged` named a path inside it, so a change in one plan costs
 * one folder read, however many plans there are. `clear` drops every cache.
 */
export class PlansRepository {
  readonly plansDir: string;
  readonly #details = new Map<string, PlanDetail>();
  readonly #dirty = new Set<string>();
  #rediscover = true;

  constructor(plansDir: string) {
    this.plansDir = plansDir;
  }

  /** Notes a changed path (absolute). Paths outside the plans folder are ignored. */
  markChanged(path: string): void {
    const rel = relative(this.plansDir, path);
    if (rel.startsWith('..') || isAbsolute(rel)) return;
    if (!rel) {
      this.#rediscover = true;
      return;
    }
    // The plan is the known folder the path lies in; a path in no known plan may be a new one.
    for (const planDir of this.#details.keys()) {
      if (path === planDir || path.startsWith(planDir + sep)) {
        this.#dirty.add(planDir);
        return;
      }
    }
    this.#rediscover = true;
  }

  /** Forgets everything: the next `load` reads every plan again. */
  clear(): void {
    this.#details.clear();
    this.#dirty.clear();
    this.#rediscover = true;
  }

  /** Whether a `load` would read anything. */
  get pending(): boolean {
    return this.#rediscover || this.#dirty.size > 0;
  }

  /** The current plans, sorted by id, reading only what changed since the last load. */
  async load(): Promise<PlanDetail[]> {
    const rediscover = this.#rediscover;
    const dirty = new Set(this.#dirty);
    this.#rediscover = false;
    this.#dirty.clear();
    const paths = rediscover ? await discoverPlans(this.plansDir) : [...this.#details.keys()];
    const keep = new Set(paths);
    for (const path of this.#details.keys()) if (!keep.has(path)) this.#details.delete(path);
    const stale = paths.filter((p) => dirty.has(p) || !this.#details.has(p));
    const names = new Map<string, number>();
    for (const p of paths) names.set(basename(p), (names.get(basename(p)) ?? 0) + 1);
    await mapLimit(stale, 16, async (path) => {
      const group = groupOf(this.plansDir, path);
      // Plans of the same name in two groupings are told apart by their grouping.
      const id =
        (names.get(basename(path)) ?? 0) > 1 && group
          ? `${group}/${basename(path)}`
          : basename(path);
      const input = await readPlanFolder(path, id, group);
      if (input) this.#details.set(path, derivePlan(input));
      else this.#details.delete(path);
    });
    return [...this.#details.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }
}
