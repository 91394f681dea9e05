import { derivePlan, summarize } from '../core/plans/derive.ts';
import type { PlanSourceEvent } from '../core/plans/types.ts';
import type { PlanDetail, PlanSummary } from '../shared/plans.ts';
import { topic } from '../shared/topics.ts';
import type { Hub } from './types.ts';

/**
 * Publishes plans: `plans` (summaries keyed by id) and `plan:<id>` (the
 * detail). It applies the events of a plans source (`src/sources/plans`),
 * which reads the folders and names the plans; the engine derives each plan's
 * state and decides what changed. It reads nothing itself.
 */
export class PlansEngine {
  readonly #hub: Hub;
  readonly #details = new Map<string, PlanDetail>();
  readonly #summaries = new Map<string, PlanSummary>();

  constructor(opts: { hub: Hub }) {
    this.#hub = opts.hub;
  }

  /** Applies one source event: a plan read, a plan gone, or a completed scan. */
  apply(event: PlanSourceEvent): void {
    switch (event.type) {
      case 'plan': {
        const detail = derivePlan(event.input);
        this.#details.set(detail.id, detail);
        this.#summaries.set(detail.id, summarize(detail));
        this.#hub.set(topic('plan', detail.id), detail);
        this.#publishList();
        return;
      }
      case 'gone':
        if (!this.#details.delete(event.id)) return;
        this.#summaries.delete(event.id);
        this.#hub.remove(topic('plan', event.id));
        this.#publishList();
        return;
      case 'synced':
        // An empty folder still has a (complete, empty) list.
        this.#publishList();
        return;
    }
  }

  list(): PlanSummary[] {
    return [...this.#summaries.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  get(id: string): PlanDetail | null {
    return this.#details.get(id) ?? null;
  }

  /** Every plan's detail, sorted by id (`plans --json`). */
  details(): PlanDetail[] {
    return this.list().map((s) => this.#details.get(s.id) as PlanDetail);
  }

  #publishList(): void {
    const plans: Record<string, PlanSummary> = {};
    for (const summary of this.list()) plans[summary.id] = summary;
    this.#hub.set(topic('plans'), { plans });
  }
}
