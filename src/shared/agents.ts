/**
 * The wire model of coding-agent sessions (Claude Code, Codex): what the
 * `agents` and `agent:<id>` topics, `GET /api/agents` and `status --json`
 * carry. Timestamps are epoch milliseconds; nothing here is derived from the
 * clock (elapsed times are computed by clients).
 */

export type AgentKind = 'claude' | 'codex';

/**
 * `working`: the agent is generating or running tools. `waiting`: it is
 * blocked on the user mid-turn (a permission prompt, a question). `idle`: its
 * turn is over and it waits for the next prompt. `ended`: the session closed.
 */
export type AgentState = 'working' | 'waiting' | 'idle' | 'ended';

/** Tokens of one or more API responses, split the way they are priced. */
export interface TokenUsage {
  /** Uncached input. */
  input: number;
  output: number;
  cacheRead: number;
  /** Cache writes with a 5-minute lifetime. */
  cacheWrite5m: number;
  /** Cache writes with a 1-hour lifetime. */
  cacheWrite1h: number;
}

export interface AgentWaiting {
  reason: 'permission' | 'question' | 'input';
  /** What the agent asks, as it said it (plain text, never HTML). */
  message: string;
  since: number;
}

/** One session in the `agents` collection. */
export interface AgentSummary {
  id: string;
  kind: AgentKind;
  /** The project folder (the session's working directory). */
  project: string;
  /** The machine it runs on (as `SessionStatus.host`); absent from servers older than the field. */
  host?: string;
  gitBranch: string | null;
  title: string | null;
  model: string | null;
  state: AgentState;
  waitingFor: AgentWaiting | null;
  startedAt: number;
  lastAt: number;
  usage: TokenUsage;
  /** Cost in USD of the priced responses (OTel `cost_usd` when it sent one, else the price table). */
  costUsd: number;
  /** Responses whose model is not in the price table: their tokens are counted, not priced. */
  unpricedResponses: number;
  responses: number;
  prompts: number;
  toolCalls: number;
  toolErrors: number;
  runningTools: number;
  subagents: number;
  /** Tokens in the context window after the last main-agent response. */
  contextTokens: number;
  contextWindow: number;
  compactions: number;
  errors: number;
  /** Input that could not be used (bad lines, unknown payloads), counted per session. */
  warnings: number;
  /**
   * Tokens and cost by phase, in the order phases began. Inside a Context
   * Foundry build (the session's folder is the build's project) the phase is
   * the build's phase when the response came; otherwise it is the context
   * window: `context 1`, then `context 2` after the first compaction, …
   */
  phases: AgentPhaseCost[];
}

/** What one phase of a session (or of one agent in it) used. */
export interface AgentPhaseCost {
  phase: string;
  usage: TokenUsage;
  costUsd: number;
  responses: number;
}

/** Phases listed per session; older ones beyond it are summed into one `earlier` row. */
export const AGENT_PHASE_CAP = 24;

export type ToolOutcome = 'running' | 'ok' | 'error';

export interface AgentToolCall {
  id: string;
  /** null for the main agent. */
  agentId: string | null;
  name: string;
  /** A one-line description of the input (command, file, pattern). */
  summary: string;
  startedAt: number;
  endedAt: number | null;
  durationMs: number | null;
  outcome: ToolOutcome;
}

/** The main agent (agentId null) or a subagent, with what it used. */
export interface AgentNode {
  agentId: string | null;
  /** The agent that spawned it (null: the main agent), through its Task tool call. */
  parentId: string | null;
  /** The Task tool call that started it, when known. */
  toolUseId: string | null;
  type: string | null;
  description: string | null;
  model: string | null;
  usage: TokenUsage;
  costUsd: number;
  responses: number;
  toolCalls: number;
  startedAt: number;
  lastAt: number;
  /** This agent's share of the session's phases. */
  phases: AgentPhaseCost[];
}

export interface AgentModelUsage {
  model: string;
  usage: TokenUsage;
  costUsd: number;
  responses: number;
  /** Whether the price table knows this model. */
  priced: boolean;
}

export interface AgentNote {
  at: number;
  text: string;
}

/** The `agent:<id>` topic. */
export interface AgentDetail {
  summary: AgentSummary;
  /** Oldest first, the last `AGENT_TOOL_CAP`. */
  tools: AgentToolCall[];
  /** Main agent first, then subagents in start order. */
  agents: AgentNode[];
  models: AgentModelUsage[];
  /** The last prompts, oldest first. */
  prompts: AgentNote[];
  /** The last errors and compactions, oldest first. */
  events: (AgentNote & { kind: 'error' | 'compaction' })[];
}

/** Tool calls kept per session (older ones leave the timeline, their counts stay). */
export const AGENT_TOOL_CAP = 200;

export const ZERO_USAGE: TokenUsage = Object.freeze({
  input: 0,
  output: 0,
  cacheRead: 0,
  cacheWrite5m: 0,
  cacheWrite1h: 0,
});

/** All tokens of a usage, for a "tokens" column. */
export function totalTokens(u: TokenUsage): number {
  return u.input + u.output + u.cacheRead + u.cacheWrite5m + u.cacheWrite1h;
}

/** Totals over every agent session, for /metrics. */
export interface AgentTotals {
  sessions: number;
  byState: Record<AgentSummary['state'], number>;
  costUsd: number;
  tokens: { input: number; output: number; cacheRead: number; cacheWrite: number };
  toolCalls: number;
  toolErrors: number;
  /** Cost and tokens by phase name, over every session (see `AgentSummary.phases`). */
  byPhase: Record<string, { costUsd: number; tokens: number }>;
}
