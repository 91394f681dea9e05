import type { AgentNode, SessionMetrics } from '../../shared/metrics.ts';
import type { SessionDetail } from '../../shared/model.ts';
import type { AgentFacts, SessionFacts, TestFact, TokenFact } from './facts.ts';

/** What the attention engine holds of one session, from the hub's topics. */
export interface SessionInputs {
  detail: SessionDetail;
  metrics: SessionMetrics | null;
  /** The newest log line's time; null without lines. */
  lastLogAt: number | null;
  /** Statuses written in the current phase, in order. */
  statuses: readonly { status: string; at: number }[];
  /** `avgPhaseDurationMs` of the analytics (past sessions). */
  usualPhaseMs: Readonly<Record<string, number>>;
  /** Agent facts pushed by an agents engine; null to derive them from the metrics' agents. */
  agent: AgentFacts | null;
}

const WAITING = /wait|permission|question|input|approval|blocked/i;

/** A cost in USD if the token usage carries one (`costUsd` or `cost_usd`). */
function costOf(metrics: SessionMetrics | null): number | null {
  const usage = metrics?.token_usage.data as Record<string, unknown> | null | undefined;
  const cost = usage?.costUsd ?? usage?.cost_usd;
  return typeof cost === 'number' && Number.isFinite(cost) ? cost : null;
}

/** An agent the producer marks as waiting (status `waiting_for_input`, `permission`, …). */
function waitingAgent(agents: readonly AgentNode[]): AgentFacts | null {
  let best: AgentNode | null = null;
  for (const a of agents) {
    if (a.endedAt !== null || !WAITING.test(a.status)) continue;
    if (!best || a.updatedAt < best.updatedAt) best = a;
  }
  if (!best) return null;
  const kind = /permission|approval/i.test(best.status) ? 'permission' : 'question';
  const detail = best.errorMessage ?? best.agentType ?? best.agentId;
  return { waiting: { kind, since: best.updatedAt, detail }, toolCalls: [] };
}

/** Builds the rules' facts from what the hub publishes. Pure. */
export function gatherFacts(inputs: SessionInputs): SessionFacts {
  const { status, timeline } = inputs.detail;
  const current = timeline.at(-1);
  const previous = timeline.length > 1 ? (timeline.at(-2)?.phase ?? null) : null;
  const metrics = inputs.metrics;
  const tests: TestFact[] = (metrics?.test_iterations.data ?? []).map((t) => ({
    iteration: t.iteration,
    total: t.total,
    failed: t.failed,
    updatedAt: t.updatedAt,
  }));
  const series = metrics?.token_usage.data?.series ?? [];
  const tokens: TokenFact[] = series.map((p) => ({
    at: p.at,
    total: p.cumulativeInput + p.cumulativeOutput,
  }));
  const agents = metrics?.agent_performance.data ?? [];
  let lastActivityAt = status.changedAt;
  const seen = (at: number | null | undefined) => {
    if (typeof at === 'number' && at > lastActivityAt) lastActivityAt = at;
  };
  seen(inputs.lastLogAt);
  seen(tokens.at(-1)?.at);
  for (const t of tests) seen(t.updatedAt);
  for (const a of agents) seen(a.updatedAt);
  return {
    id: status.id,
    state: status.state,
    status: status.status,
    phase: status.currentPhase,
    previousPhase: previous,
    phaseStartedAt: current?.startedAt ?? status.firstSeenAt,
    runStartedAt: status.firstSeenAt,
    changedAt: status.changedAt,
    lastActivityAt,
    usualPhaseMs: inputs.usualPhaseMs[status.currentPhase] ?? null,
    tests,
    statuses: inputs.statuses,
    tokens,
    costUsd: costOf(metrics),
    agent: inputs.agent ?? waitingAgent(agents),
  };
}
