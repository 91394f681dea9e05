/**
 * Enhanced metrics of a session: measured figures only. A section with no
 * source data is `{ data: null, reason }`, never an estimate.
 */

/** Either real data, or null with the reason there is none. */
export type Section<T> = { data: T; reason: null } | { data: null; reason: string };

/** One token measurement (a session.jsonl line or an agent update). */
export interface TokenPoint {
  at: number;
  input: number;
  output: number;
  /** Running totals after this point. */
  cumulativeInput: number;
  cumulativeOutput: number;
  contextPercent: number | null;
  model: string | null;
  /** The session's phase when the point was recorded. */
  phase: string | null;
}

export type BudgetLevel = 'ok' | 'warning' | 'critical';

export interface TokenUsage {
  /**
   * Where the figures come from: `session_log` (session.jsonl, split into input
   * and output) or `agent_updates` (agents' `tokens_used`, one combined count
   * per agent, recorded as input). Added by the metrics engine; optional for
   * older producers of this type.
   */
  source?: 'session_log' | 'agent_updates';
  input: number;
  output: number;
  total: number;
  /** Configured budget for the session (default 200,000). */
  budget: number;
  /** total / budget * 100. */
  percentOfBudget: number;
  /** `warning` from 50 %, `critical` from 75 %. */
  level: BudgetLevel;
  model: string | null;
  contextPercent: number | null;
  byPhase: Record<string, { input: number; output: number }>;
  /** Time series, bounded (older points are merged). */
  series: TokenPoint[];
}

export interface TestIteration {
  iteration: number;
  total: number | null;
  passed: number | null;
  failed: number | null;
  skipped: number | null;
  durationMs: number | null;
  /** The file's own verdict, which wins over the counts (a failed build with 13 passing tests). */
  verdict?: 'passed' | 'failed' | null;
  /** Why the iteration failed, as its verdict line says. */
  reason?: string | null;
  /** File the figures came from, relative to the project. */
  source: string;
  updatedAt: number;
}

export interface AgentNode {
  agentId: string;
  parentAgentId: string | null;
  agentType: string | null;
  status: string;
  phase: string | null;
  progressPercent: number | null;
  tokensUsed: number | null;
  tokensLimit: number | null;
  errorMessage: string | null;
  startedAt: number;
  /** Set when the agent completed or failed. */
  endedAt: number | null;
  /** Null while running (clients compute it). */
  durationMs: number | null;
  updatedAt: number;
  metadata: Record<string, unknown>;
}

export type DecisionKind = 'issue' | 'pattern' | 'common_issue';

export interface Decision {
  /** The producer's id, or a content hash when it has none. */
  id: string;
  kind: DecisionKind;
  title: string;
  phase: string | null;
  solution: string | null;
  severity: string | null;
  /** File it came from, relative to the project. */
  source: string;
  updatedAt: number;
  details: Record<string, unknown>;
}

/** `GET /api/metrics/:id` and the `metrics:<id>` topic. Section names follow the seed. */
export interface SessionMetrics {
  sessionId: string;
  token_usage: Section<TokenUsage>;
  test_iterations: Section<TestIteration[]>;
  agent_performance: Section<AgentNode[]>;
  decisions: Section<Decision[]>;
  /** Problems met while reading metric sources (bad lines, odd files). */
  warnings: { code: string; message: string; at: number }[];
}

/** Cross-session analytics over the stored history (`GET /api/analytics`). */
export interface Analytics {
  sessions: number;
  avgPhaseDurationMs: Record<string, number>;
  tokensPerPhase: Record<string, number>;
  avgTestIterationsToGreen: number | null;
  failureRate: number | null;
}
