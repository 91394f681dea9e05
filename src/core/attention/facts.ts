import type { SessionState } from '../../shared/model.ts';

/** One test iteration as the rules need it. */
export interface TestFact {
  iteration: number;
  total: number | null;
  failed: number | null;
  /** When the figures were written. */
  updatedAt: number;
}

/** A cumulative token reading. */
export interface TokenFact {
  at: number;
  /** Input + output so far. */
  total: number;
}

/**
 * What an agent session adds (Claude Code, Codex: transcripts, hooks). The
 * agents engine fills it; a build session has none.
 */
export interface AgentFacts {
  /** A permission prompt or a question the agent is waiting on; null when it is not waiting. */
  waiting: { kind: 'permission' | 'question'; since: number; detail: string | null } | null;
  /** The latest tool calls, oldest first (a few dozen are enough). */
  toolCalls: readonly { tool: string; input: string; at: number }[];
}

/**
 * Everything the rules look at for one session, gathered by the attention
 * engine from the hub's topics. Plain data: the rules are pure.
 */
export interface SessionFacts {
  id: string;
  state: SessionState;
  status: string;
  phase: string;
  /** The phase before the current one; null when none was seen. */
  previousPhase: string | null;
  /** When the current phase started. */
  phaseStartedAt: number;
  /** When this run of the session was first seen: separates two builds that reuse an id. */
  runStartedAt: number;
  /** Last change of the session's status, any field. */
  changedAt: number;
  /** Last time the producer wrote anything: status, tokens, tests, log lines. */
  lastActivityAt: number;
  /** How long the current phase takes in past sessions (ms); null without history. */
  usualPhaseMs: number | null;
  tests: readonly TestFact[];
  /** Statuses the producer wrote in the current phase, in order. */
  statuses: readonly { status: string; at: number }[];
  /** Cumulative token readings, oldest first. */
  tokens: readonly TokenFact[];
  /** Cost so far in USD when the session carries one; null otherwise. */
  costUsd: number | null;
  agent: AgentFacts | null;
}
