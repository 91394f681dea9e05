import type { TokenUsage } from '../../shared/agents.ts';
import type { AgentEventOf } from './events.ts';
import type { AgentNodeState, ModelTotals, SeenResponse } from './session.ts';
import { addUsage, diffUsage, hash53, zeroUsage } from './usage.ts';

/**
 * Adds a response's contribution (negative to take one back) to an agent's
 * model and phase totals. A row a move empties is dropped.
 */
export function addContribution(
  node: AgentNodeState,
  model: string,
  phase: string,
  usage: TokenUsage,
  costUsd: number,
  priced: boolean,
  responses = 0,
): void {
  const totals = modelTotals(node, model, priced);
  addUsage(totals.usage, usage);
  totals.costUsd += costUsd;
  totals.responses += responses;
  if (priced) totals.priced = true;
  if (responses < 0 && totals.responses === 0) node.models.delete(model);
  let p = node.phases[phase];
  if (!p) {
    p = { usage: zeroUsage(), costUsd: 0, responses: 0 };
    node.phases[phase] = p;
  }
  addUsage(p.usage, usage);
  p.costUsd += costUsd;
  p.responses += responses;
  if (responses < 0 && p.responses === 0) delete node.phases[phase];
}

function modelTotals(node: AgentNodeState, model: string, priced: boolean): ModelTotals {
  let m = node.models.get(model);
  if (!m) {
    m = { usage: zeroUsage(), costUsd: 0, responses: 0, priced };
    node.models.set(model, m);
  }
  return m;
}

/**
 * Moves a response counted from OTel (on the main agent: OTel may not say
 * which agent sent it) to the agent whose transcript wrote it, with the hash
 * that marks it counted.
 */
export function moveResponse(seen: SeenResponse, to: AgentNodeState, key: string): void {
  const from = seen.node;
  const back = diffUsage(zeroUsage(), seen.usage);
  addContribution(from, seen.model, seen.phase, back, -seen.costUsd, true, -1);
  addContribution(to, seen.model, seen.phase, seen.usage, seen.costUsd, true, 1);
  const h = hash53(`r:${key}`);
  const i = from.keys.indexOf(h);
  if (i >= 0) {
    from.keys.splice(i, 1);
    to.keys.push(h);
  }
  seen.node = to;
}

/** The alias hashes of a response copy (see `responseAliases`). */
export interface ResponseAliases {
  request: number | null;
  tokens: number | null;
}

/**
 * The other keys a response copy is known by: its request id, and its input
 * tokens (uncached + cache reads + cache writes), which a transcript's lines
 * and OTel's `api_request` of one response both carry in full.
 */
export function responseAliases(e: AgentEventOf<'response'>): ResponseAliases {
  const u = e.usage;
  const input = u.input + u.cacheRead + u.cacheWrite5m + u.cacheWrite1h;
  return {
    request: e.requestId ? hash53(`req:${e.requestId}`) : null,
    tokens: input > 0 ? hash53(`fp:${input}`) : null,
  };
}
