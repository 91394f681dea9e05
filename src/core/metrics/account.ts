import type {
  AgentNode,
  Decision,
  SessionMetrics,
  TestIteration,
  TokenPoint,
  TokenUsage,
} from '../../shared/metrics.ts';
import { type AgentUpdate, agentTree, applyAgentUpdate } from './agents.ts';
import { decisionChanged, preferDecision } from './decisions.ts';
import type { TestCounts } from './test-results.ts';
import { TokenLedger, type TokenReading } from './tokens.ts';

/** Warnings kept per session (newest win). */
export const MAX_WARNINGS = 20;

export interface MetricsWarning {
  code: string;
  message: string;
  at: number;
}

/** How a session's empty sections explain themselves. */
export interface Whereabouts {
  sessionId: string;
  projectDir: string | null;
}

/**
 * Everything measured about one session, in memory. Each `apply…` returns
 * what must be persisted (null when nothing changed); `metrics()` builds a new
 * `SessionMetrics` every time, so the hub can diff it against the last one.
 */
export class MetricsAccount {
  readonly tokens = new TokenLedger();
  readonly agentTokens = new TokenLedger();
  /** A session.jsonl was seen, even if it has no token figures yet. */
  sessionLogSeen = false;
  readonly #agents = new Map<string, AgentNode>();
  readonly #tests = new Map<number, TestIteration>();
  readonly #decisions = new Map<string, Decision>();
  /** Ids each decision file gave last time, so entries removed from a file go away. */
  readonly #bySource = new Map<string, Set<string>>();
  readonly #warnings = new Map<string, MetricsWarning>();

  /** Loads stored history (a restart). */
  load(history: {
    points: readonly TokenPoint[];
    tests: readonly TestIteration[];
    agents: readonly AgentNode[];
    decisions: readonly Decision[];
  }): void {
    this.tokens.load(history.points);
    if (history.points.length > 0) this.sessionLogSeen = true;
    for (const t of history.tests) this.#tests.set(t.iteration, t);
    const agents = [...history.agents].sort((a, b) => a.updatedAt - b.updatedAt);
    for (const a of agents) {
      this.#agents.set(a.agentId, a);
      if (a.tokensUsed !== null && a.tokensUsed > 0) {
        this.agentTokens.add(reading(a.tokensUsed, a.updatedAt), a.phase, a.updatedAt);
      }
    }
    for (const d of history.decisions) {
      const prev = this.#decisions.get(d.id);
      this.#decisions.set(d.id, prev ? preferDecision(prev, d) : d);
      const ids = this.#bySource.get(d.source) ?? new Set();
      ids.add(d.id);
      this.#bySource.set(d.source, ids);
    }
  }

  applyTokens(r: TokenReading, phase: string | null, receivedAt: number): TokenPoint | null {
    this.sessionLogSeen = true;
    return this.tokens.add(r, phase, receivedAt);
  }

  /** The agent after the update; its `tokens_used` growth is accounted as agent tokens. */
  applyAgent(update: AgentUpdate, sessionPhase: string | null, at: number): AgentNode {
    const prev = this.#agents.get(update.agent_id) ?? null;
    const next = applyAgentUpdate(prev, update, at);
    this.#agents.set(next.agentId, next);
    const grown = (next.tokensUsed ?? 0) - (prev?.tokensUsed ?? 0);
    if (grown > 0) this.agentTokens.add(reading(grown, at), next.phase ?? sessionPhase, at);
    return next;
  }

  applyTestResults(
    iteration: number,
    counts: TestCounts,
    source: string,
    at: number,
  ): TestIteration | null {
    const prev = this.#tests.get(iteration);
    const next: TestIteration = { iteration, ...counts, source, updatedAt: at };
    if (
      prev &&
      JSON.stringify({ ...prev, updatedAt: 0 }) === JSON.stringify({ ...next, updatedAt: 0 })
    ) {
      return null;
    }
    this.#tests.set(iteration, next);
    return next;
  }

  /**
   * A decision file's current entries: new or changed ones are returned to be
   * saved; entries the file no longer has are dropped from view.
   */
  applyDecisionFile(source: string, decisions: readonly Decision[]): Decision[] {
    const changed: Decision[] = [];
    const ids = new Set<string>();
    for (const d of decisions) {
      ids.add(d.id);
      const prev = this.#decisions.get(d.id);
      if (prev && !decisionChanged(prev, d)) continue;
      if (prev && prev.source !== source && preferDecision(prev, d) === prev) continue;
      this.#decisions.set(d.id, d);
      changed.push(d);
    }
    for (const id of this.#bySource.get(source) ?? []) {
      if (!ids.has(id) && this.#decisions.get(id)?.source === source) this.#decisions.delete(id);
    }
    this.#bySource.set(source, ids);
    return changed;
  }

  /** Records a problem; the same code for the same file replaces the earlier one. */
  warn(key: string, warning: MetricsWarning): void {
    this.#warnings.delete(key);
    this.#warnings.set(key, warning);
    if (this.#warnings.size > MAX_WARNINGS) {
      const oldest = this.#warnings.keys().next().value as string;
      this.#warnings.delete(oldest);
    }
  }

  tokenUsage(budget: number): TokenUsage | null {
    const own = this.tokens.usage(budget);
    if (own) return { source: 'session_log', ...own };
    const agents = this.agentTokens.usage(budget);
    return agents ? { source: 'agent_updates', ...agents } : null;
  }

  testIterations(): TestIteration[] {
    return [...this.#tests.values()].sort((a, b) => a.iteration - b.iteration);
  }

  metrics(where: Whereabouts, budget: number): SessionMetrics {
    const tokens = this.tokenUsage(budget);
    const tests = this.testIterations();
    const agents = agentTree(this.#agents.values());
    const decisions = [...this.#decisions.values()].sort(
      (a, b) =>
        a.source.localeCompare(b.source) ||
        a.kind.localeCompare(b.kind) ||
        a.id.localeCompare(b.id),
    );
    const log = `logs/ralph_${where.sessionId}/session.jsonl`;
    const cf = where.projectDir ? `${where.projectDir}/.context-foundry` : null;
    return {
      sessionId: where.sessionId,
      token_usage: tokens
        ? { data: tokens, reason: null }
        : {
            data: null,
            reason: this.sessionLogSeen
              ? `${log} has no lines with token figures (metadata.input_tokens/output_tokens) yet`
              : `no session log found at ${log}, and no agent update reported tokens_used`,
          },
      test_iterations:
        tests.length > 0
          ? { data: tests, reason: null }
          : {
              data: null,
              reason: cf
                ? `no test results found at ${cf}/test-results-iteration-N.md`
                : 'the session has no project folder to read .context-foundry/test-results-iteration-N.md from',
            },
      agent_performance:
        agents.length > 0
          ? { data: agents, reason: null }
          : { data: null, reason: 'no agent updates received (POST /api/agent-update)' },
      decisions:
        decisions.length > 0
          ? { data: decisions, reason: null }
          : {
              data: null,
              reason: cf
                ? `no issues or patterns found in ${cf}/feedback/build-feedback-*.json or ${cf}/patterns/common-issues.json`
                : 'the session has no project folder to read .context-foundry/feedback/ and patterns/ from',
            },
      warnings: [...this.#warnings.values()],
    };
  }
}

function reading(tokens: number, at: number): TokenReading {
  return {
    at,
    input: tokens,
    output: 0,
    totalInput: null,
    totalOutput: null,
    contextPercent: null,
    model: null,
  };
}
