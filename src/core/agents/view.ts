import {
  AGENT_PHASE_CAP,
  type AgentDetail,
  type AgentModelUsage,
  type AgentNode,
  type AgentPhaseCost,
  type AgentSummary,
  type AgentToolCall,
} from '../../shared/agents.ts';
import { contextWindowOf } from './prices.ts';
import type { AgentNodeState, AgentSessionState } from './session.ts';
import { addUsage, zeroUsage } from './usage.ts';

/** The last folder of a path, for a project column. */
function projectOf(cwd: string): string {
  const parts = cwd.split(/[\\/]/).filter((p) => p !== '');
  return parts.at(-1) ?? cwd;
}

/** A session's row in the `agents` collection (a new object each time). */
export function summarize(s: AgentSessionState): AgentSummary {
  const totals = s.totals();
  let toolCalls = 0;
  let toolErrors = 0;
  let prompts = 0;
  for (const n of s.nodes.values()) {
    toolCalls += n.toolCalls;
    toolErrors += n.toolErrors;
    if (n.agentId === null) prompts += n.prompts;
  }
  const main = s.nodes.get(null);
  return {
    id: s.id,
    kind: s.kind,
    project: s.cwd === '' ? '' : projectOf(s.cwd),
    gitBranch: s.gitBranch,
    title: s.title ?? (main?.firstPrompt ? main.firstPrompt.slice(0, 80) : null),
    model: s.model,
    state: s.state,
    waitingFor: s.waitingFor ? { ...s.waitingFor } : null,
    startedAt: s.startedAt,
    lastAt: s.lastAt,
    usage: totals.usage,
    costUsd: round(totals.costUsd),
    unpricedResponses: s.unpricedResponses,
    responses: totals.responses,
    prompts,
    toolCalls,
    toolErrors,
    runningTools: s.runningTools(),
    subagents: s.nodes.size - (main ? 1 : 0),
    contextTokens: s.contextTokens,
    contextWindow: s.contextWindow ?? contextWindowOf(s.model),
    compactions: s.compactions,
    errors: s.errors,
    warnings: s.warnings,
    phases: phaseCosts(s.nodes.values()),
  };
}

/** Phases summed over `nodes`, in the order they began, capped (see `AGENT_PHASE_CAP`). */
function phaseCosts(nodes: Iterable<AgentNodeState>): AgentPhaseCost[] {
  const rows = new Map<string, AgentPhaseCost>();
  for (const n of nodes) {
    for (const [phase, p] of Object.entries(n.phases)) {
      let row = rows.get(phase);
      if (!row) {
        row = { phase, usage: zeroUsage(), costUsd: 0, responses: 0 };
        rows.set(phase, row);
      }
      addUsage(row.usage, p.usage);
      row.costUsd += p.costUsd;
      row.responses += p.responses;
    }
  }
  let list = [...rows.values()];
  if (list.length > AGENT_PHASE_CAP) {
    const cut = list.length - AGENT_PHASE_CAP + 1;
    const earlier: AgentPhaseCost = {
      phase: 'earlier',
      usage: zeroUsage(),
      costUsd: 0,
      responses: 0,
    };
    for (const row of list.slice(0, cut)) {
      addUsage(earlier.usage, row.usage);
      earlier.costUsd += row.costUsd;
      earlier.responses += row.responses;
    }
    list = [earlier, ...list.slice(cut)];
  }
  return list.map((row) => ({ ...row, costUsd: round(row.costUsd) }));
}

/** Micro-dollar precision: sums of many small floats stay readable and stable. */
function round(usd: number): number {
  return Math.round(usd * 1e6) / 1e6;
}

function nodeView(n: AgentNodeState): AgentNode {
  const usage = zeroUsage();
  let costUsd = 0;
  let responses = 0;
  for (const m of n.models.values()) {
    addUsage(usage, m.usage);
    costUsd += m.costUsd;
    responses += m.responses;
  }
  return {
    agentId: n.agentId,
    parentId: n.agentId === null ? null : n.parentId,
    toolUseId: n.toolUseId,
    type: n.type,
    description: n.description,
    model: n.model,
    usage,
    costUsd: round(costUsd),
    responses,
    toolCalls: n.toolCalls,
    startedAt: n.startedAt,
    lastAt: n.lastAt,
    phases: phaseCosts([n]),
  };
}

/** The `agent:<id>` topic's data. */
export function detail(s: AgentSessionState): AgentDetail {
  const tools: AgentToolCall[] = [];
  for (const t of s.tools.values()) {
    tools.push({
      id: t.id,
      agentId: t.agentId,
      name: t.name,
      summary: t.summary,
      startedAt: t.startedAt,
      endedAt: t.endedAt,
      durationMs: t.endedAt === null ? null : t.endedAt - t.startedAt,
      outcome: t.outcome,
    });
  }
  tools.sort((a, b) => a.startedAt - b.startedAt);
  const models = new Map<string, AgentModelUsage>();
  for (const n of s.nodes.values()) {
    for (const [model, m] of n.models) {
      let row = models.get(model);
      if (!row) {
        row = { model, usage: zeroUsage(), costUsd: 0, responses: 0, priced: m.priced };
        models.set(model, row);
      }
      addUsage(row.usage, m.usage);
      row.costUsd += m.costUsd;
      row.responses += m.responses;
    }
  }
  const agents = [...s.nodes.values()]
    .map(nodeView)
    .sort((a, b) => (a.agentId === null ? -1 : b.agentId === null ? 1 : a.startedAt - b.startedAt));
  return {
    summary: summarize(s),
    tools,
    agents,
    models: [...models.values()]
      .map((m) => ({ ...m, costUsd: round(m.costUsd) }))
      .sort((a, b) => b.costUsd - a.costUsd),
    prompts: s.prompts.map((p) => ({ ...p })),
    events: s.events.map((e) => ({ ...e })),
  };
}
