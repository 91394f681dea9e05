import type { AgentKind, TokenUsage } from '../../shared/agents.ts';

/** Where an agent event came from. Transcripts are the truth for tokens; hooks are faster. */
export type AgentSource = 'transcript' | 'hook' | 'otel';

/** What every agent event carries. */
export interface AgentEventBase {
  agent: AgentKind;
  sessionId: string;
  /** null: the main agent; else the subagent's id. */
  agentId: string | null;
  at: number;
  source: AgentSource;
}

/**
 * What every input (transcript line, hook payload, OTLP record) becomes. The
 * session model joins them by session id, tool-use id and response key, so
 * the same fact arriving from several sources counts once.
 */
export type AgentEvent = AgentEventBase &
  (
    | {
        type: 'meta';
        cwd?: string;
        gitBranch?: string;
        title?: string;
        model?: string;
        contextWindow?: number;
      }
    | { type: 'prompt'; text: string }
    | {
        type: 'response';
        /** Identifies one API response across its repeated lines: message id + request id. */
        key: string;
        model: string | null;
        usage: TokenUsage;
        /** The vendor's own cost for this response (OTel `cost_usd`), preferred over the table. */
        costUsd?: number;
        /** Tokens in the context after this response, when the source says it directly. */
        contextTokens?: number;
        /** `end_turn`: the turn is over; `tool_use`: tools follow; null: streaming or unknown. */
        stopReason: string | null;
        /** The API request id: what joins a transcript's response to OTel's `api_request`. */
        requestId?: string;
        /**
         * The Context Foundry phase the agent was in (set by the engine when the
         * session runs inside a build); else the book uses the context window.
         */
        phase?: string;
      }
    | {
        /**
         * One OTel metric point of a session's tokens or cost (`claude_code.token.usage`,
         * `claude_code.cost.usage`): used only for sessions no response reached.
         */
        type: 'usage_metric';
        /** Identifies the series: a cumulative point replaces its series' value, a delta adds. */
        series: string;
        /** Identifies the point, so an exporter's retry is not added twice. */
        point: string;
        model: string;
        field: keyof TokenUsage | 'costUsd';
        value: number;
        cumulative: boolean;
      }
    | {
        type: 'tool_start';
        toolUseId: string;
        name: string;
        summary: string;
        /** A Task call's prompt and subagent type: how its subagent is recognised. */
        prompt?: string;
        agentType?: string;
      }
    | { type: 'tool_end'; toolUseId: string; isError: boolean; spawnedAgentId?: string }
    | { type: 'turn_end' }
    | { type: 'waiting'; reason: 'permission' | 'question' | 'input'; message: string }
    | { type: 'compaction'; trigger: string; preTokens: number | null }
    | { type: 'error'; message: string }
    | { type: 'subagent_start'; agentType: string | null; prompt: string | null }
    | { type: 'subagent_end' }
    | { type: 'session_end' }
    /** Input that could not be used; counted on the session. */
    | { type: 'warning'; message: string }
  );

/** One agent input as a server keeps it beside its checkpoint: an event with its transcript, or a transcript taken back. */
export type AgentInput = { file: string | null; event: AgentEvent } | { reset: string };

export type AgentEventOf<T extends AgentEvent['type']> = Extract<AgentEvent, { type: T }>;

/** Epoch ms of an ISO timestamp, or `fallback` when it is missing or not a date. */
export function timeOf(value: unknown, fallback: number): number {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value !== 'string') return fallback;
  const t = Date.parse(value);
  return Number.isNaN(t) ? fallback : t;
}

/** A one-line description of a tool's input, for timelines. */
export function summarizeInput(name: string, input: unknown): string {
  if (typeof input === 'string') return clip(input);
  if (typeof input !== 'object' || input === null) return '';
  const o = input as Record<string, unknown>;
  for (const key of [
    'command',
    'cmd',
    'file_path',
    'path',
    'pattern',
    'url',
    'query',
    'description',
    'prompt',
  ]) {
    const v = o[key];
    if (typeof v === 'string' && v !== '') return clip(v);
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return clip(v.join(' '));
  }
  return name === '' ? '' : clip(JSON.stringify(o));
}

export function clip(text: string, max = 160): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}
