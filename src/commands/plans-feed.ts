import type { LivestreamClient } from '../client/index.ts';
import type { PlanDetail } from '../shared/plans.ts';
import { topic } from '../shared/topics.ts';

/** The plans a client holds: every `plan:<id>` named by the `plans` topic. */
export interface PlansFeed {
  /** The details received so far, sorted by id; a plan keeps its object until it changes. */
  plans: PlanDetail[];
  /** The `plans` list arrived and every plan it names has its detail. */
  complete: boolean;
}

/**
 * Follows the plans of a protocol client — an in-process hub or a server —
 * the way the dashboard shows them: the `plans` topic names the plans, and
 * each plan's `plan:<id>` topic (subscribed while the list names it) carries
 * its detail. `onChange` hears every change of the feed. Returns the function
 * that releases every topic.
 */
export function followPlans(
  client: LivestreamClient,
  onChange: (feed: PlansFeed) => void,
): () => void {
  const held = new Map<string, () => void>();
  let lastList: unknown;
  let last: PlansFeed | null = null;
  const releaseList = client.subscribe(topic('plans'));
  const update = () => {
    const list = client.topic<'plans'>('plans');
    if (list !== lastList) {
      lastList = list;
      const ids = new Set(Object.keys(list?.data?.plans ?? {}));
      for (const [id, release] of held) {
        if (ids.has(id)) continue;
        release();
        held.delete(id);
      }
      for (const id of ids) if (!held.has(id)) held.set(id, client.subscribe(topic('plan', id)));
    }
    const plans: PlanDetail[] = [];
    let complete = Boolean(list?.data);
    for (const id of [...held.keys()].sort()) {
      const entry = client.topic<'plan'>(`plan:${id}`);
      if (entry?.data) plans.push(entry.data);
      else complete = false;
    }
    const same =
      last !== null &&
      last.complete === complete &&
      last.plans.length === plans.length &&
      last.plans.every((p, i) => p === plans[i]);
    if (same) return;
    last = { plans, complete };
    onChange(last);
  };
  const off = client.on(update);
  update();
  return () => {
    off();
    for (const release of held.values()) release();
    held.clear();
    releaseList();
  };
}
