import type {
  AgentKind,
  AgentNote,
  AgentState,
  AgentWaiting,
  TokenUsage,
  ToolOutcome,
} from '../../shared/agents.ts';
import { AGENT_TOOL_CAP } from '../../shared/agents.ts';
import type { AgentEventOf } from './events.ts';
import { addUsage, hash53, zeroUsage } from './usage.ts';

/** Usage of one model by one agent. */
export interface ModelTotals {
  usage: TokenUsage;
  costUsd: number;
  responses: number;
  priced: boolean;
}

/** What the responses of one phase cost (see `AgentEventOf<'response'>['phase']`). */
export interface PhaseTotals {
  usage: TokenUsage;
  costUsd: number;
  responses: number;
}

/** The main agent (id null) or a subagent of a session, and what it contributed. */
export interface AgentNodeState {
  agentId: string | null;
  parentId: string | null;
  toolUseId: string | null;
  type: string | null;
  description: string | null;
  model: string | null;
  /** The transcript that wrote this agent's lines; resetting it drops what it counted. */
  file: string | null;
  models: Map<string, ModelTotals>;
  /** By phase name: plain JSON, so checkpoints carry it as it is. */
  phases: Record<string, PhaseTotals>;
  toolCalls: number;
  toolErrors: number;
  prompts: number;
  /** Hashes of the responses and tool calls this agent counted (see `AgentBook`). */
  keys: number[];
  firstPrompt: string | null;
  startedAt: number;
  lastAt: number;
}

export interface ToolCallState {
  id: string;
  agentId: string | null;
  name: string;
  summary: string;
  agentType: string | null;
  prompt: string | null;
  startedAt: number;
  endedAt: number | null;
  outcome: ToolOutcome;
}

/** What one recent response contributed, to add only the difference when a fuller copy comes. */
export interface SeenResponse {
  node: AgentNodeState;
  model: string;
  usage: TokenUsage;
  costUsd: number;
  /** The cost came from the vendor (OTel `cost_usd`): a table price never replaces it. */
  vendorCost: boolean;
  phase: string;
  /** Which sources reported it: a join across sources happens once per source. */
  fromTranscript: boolean;
  fromOtel: boolean;
  /**
   * Hashes (`hash53`) of the other keys it is known by: its request id, its
   * input tokens, the other source's key. Hashes, as a month of responses
   * keeps these for the last 256 of every session.
   */
  aliases: number[];
}

/** One OTel metric series of a session (see `AgentEventOf<'usage_metric'>`). */
export interface MetricSeries {
  model: string;
  field: keyof TokenUsage | 'costUsd';
  value: number;
}

/** The alias hash of another source's response key. */
export function aliasOfKey(key: string): number {
  return hash53(`k:${key}`);
}

/** Metric points remembered per session, to drop an exporter's retried batch. */
const METRIC_POINTS = 512;

/** Responses remembered per session for fuller copies (the lines of one response are adjacent). */
export const RECENT_RESPONSES = 256;
const NOTE_CAP = 20;
/** A prompt seen from another source this close in time is the same prompt. */
const PROMPT_JOIN_MS = 120_000;

/** The mutable state of one coding-agent session; `AgentBook` applies events to it. */
export class AgentSessionState {
  readonly id: string;
  readonly kind: AgentKind;
  cwd = '';
  gitBranch: string | null = null;
  title: string | null = null;
  model: string | null = null;
  state: AgentState = 'working';
  /** Time of the event that set `state`: older events (a late transcript flush) do not change it. */
  stateAt = 0;
  waitingFor: AgentWaiting | null = null;
  startedAt: number;
  lastAt: number;
  contextTokens = 0;
  contextAt = 0;
  contextWindow: number | null = null;
  compactions = 0;
  errors = 0;
  warnings = 0;
  unpricedResponses = 0;
  readonly nodes = new Map<string | null, AgentNodeState>();
  readonly tools = new Map<string, ToolCallState>();
  readonly recent = new Map<string, SeenResponse>();
  /** Alias hash → key in `recent`. */
  readonly aliases = new Map<number, string>();
  /** OTel usage metrics by series: the session's totals when no response reached it. */
  metricSeries: Record<string, MetricSeries> = {};
  /** The book's event count when this session last had an event (not checkpointed). */
  appliedAt = 0;
  /** Bumped on every change the book makes, so a checkpoint knows what to write again. */
  version = 0;
  metricPoints: number[] = [];
  readonly prompts: AgentNote[] = [];
  readonly events: (AgentNote & { kind: 'error' | 'compaction' })[] = [];
  readonly recentPrompts: { text: string; at: number; source: string }[] = [];

  constructor(id: string, kind: AgentKind, at: number) {
    this.id = id;
    this.kind = kind;
    this.startedAt = at;
    this.lastAt = at;
  }

  node(agentId: string | null, at: number, file: string | null): AgentNodeState {
    let node = this.nodes.get(agentId);
    if (!node) {
      node = {
        agentId,
        parentId: null,
        toolUseId: null,
        type: null,
        description: null,
        model: null,
        file,
        models: new Map(),
        phases: {},
        toolCalls: 0,
        toolErrors: 0,
        prompts: 0,
        keys: [],
        firstPrompt: null,
        startedAt: at,
        lastAt: at,
      };
      this.nodes.set(agentId, node);
    } else if (node.file === null && file !== null) {
      node.file = file;
    }
    if (at < node.startedAt) node.startedAt = at;
    if (at > node.lastAt) node.lastAt = at;
    return node;
  }

  touch(at: number): void {
    if (at > this.lastAt) this.lastAt = at;
    if (at < this.startedAt) this.startedAt = at;
  }

  setState(state: AgentState, at: number, waiting: AgentWaiting | null = null): void {
    if (at < this.stateAt || this.state === 'ended') return;
    this.state = state;
    this.stateAt = at;
    this.waitingFor = waiting;
  }

  /** Whether a prompt is new (not the same one already seen from another source). */
  acceptPrompt(text: string, at: number, source: string): boolean {
    const same = this.recentPrompts.find(
      (p) => p.text === text && p.source !== source && Math.abs(p.at - at) < PROMPT_JOIN_MS,
    );
    if (same) {
      // Matched once: a second identical prompt from that source is a new one.
      same.source = source;
      return false;
    }
    this.recentPrompts.push({ text, at, source });
    if (this.recentPrompts.length > 8) this.recentPrompts.shift();
    return true;
  }

  note(list: 'prompts', note: AgentNote): void;
  note(list: 'events', note: AgentNote & { kind: 'error' | 'compaction' }): void;
  note(list: 'prompts' | 'events', note: AgentNote & { kind?: 'error' | 'compaction' }): void {
    const into = this[list] as AgentNote[];
    into.push(note);
    if (into.length > NOTE_CAP) into.shift();
  }

  rememberResponse(key: string, seen: SeenResponse): void {
    this.recent.set(key, seen);
    for (const alias of seen.aliases) this.aliases.set(alias, key);
    if (this.recent.size > RECENT_RESPONSES) {
      const oldest = this.recent.keys().next().value as string;
      this.forgetResponse(oldest);
    }
  }

  /** Another key (an alias hash) `key`'s response is known by. */
  addAlias(key: string, alias: number): void {
    const seen = this.recent.get(key);
    if (!seen || this.aliases.has(alias)) return;
    seen.aliases.push(alias);
    this.aliases.set(alias, key);
  }

  /** The remembered response of a key, with its key in `recent`. */
  findResponse(key: string): { key: string; seen: SeenResponse } | null {
    const direct = this.recent.get(key);
    return direct ? { key, seen: direct } : this.findAlias(aliasOfKey(key));
  }

  /** The remembered response an alias hash names. */
  findAlias(alias: number): { key: string; seen: SeenResponse } | null {
    const key = this.aliases.get(alias);
    const seen = key === undefined ? undefined : this.recent.get(key);
    return key !== undefined && seen ? { key, seen } : null;
  }

  forgetResponse(key: string): void {
    const seen = this.recent.get(key);
    if (!seen) return;
    this.recent.delete(key);
    for (const alias of seen.aliases)
      if (this.aliases.get(alias) === key) this.aliases.delete(alias);
  }

  /** Whether a metric point is new (not a retried copy of one applied). */
  acceptMetricPoint(hash: number): boolean {
    if (this.metricPoints.includes(hash)) return false;
    this.metricPoints.push(hash);
    if (this.metricPoints.length > METRIC_POINTS) this.metricPoints.shift();
    return true;
  }

  startTool(e: AgentEventOf<'tool_start'>, agentType: string | null): ToolCallState {
    const call: ToolCallState = {
      id: e.toolUseId,
      agentId: e.agentId,
      name: e.name,
      summary: e.summary,
      agentType,
      prompt: e.prompt ?? null,
      startedAt: e.at,
      endedAt: null,
      outcome: 'running',
    };
    this.tools.set(call.id, call);
    if (this.tools.size > AGENT_TOOL_CAP) {
      this.tools.delete(this.tools.keys().next().value as string);
    }
    return call;
  }

  runningTools(): number {
    let n = 0;
    for (const t of this.tools.values()) if (t.outcome === 'running') n++;
    return n;
  }

  /**
   * Totals over every agent of the session. A session no response reached
   * (OTel metrics exported, events and transcripts not) has its metrics'.
   */
  totals(): { usage: TokenUsage; costUsd: number; responses: number } {
    const usage = zeroUsage();
    let costUsd = 0;
    let responses = 0;
    for (const node of this.nodes.values()) {
      for (const m of node.models.values()) {
        addUsage(usage, m.usage);
        costUsd += m.costUsd;
        responses += m.responses;
      }
    }
    if (responses === 0) {
      for (const m of this.metricModels().values()) {
        addUsage(usage, m.usage);
        costUsd += m.costUsd;
      }
    }
    return { usage, costUsd, responses };
  }

  /** The OTel usage metrics by model. */
  metricModels(): Map<string, { usage: TokenUsage; costUsd: number }> {
    const out = new Map<string, { usage: TokenUsage; costUsd: number }>();
    for (const m of Object.values(this.metricSeries)) {
      let row = out.get(m.model);
      if (!row) {
        row = { usage: zeroUsage(), costUsd: 0 };
        out.set(m.model, row);
      }
      if (m.field === 'costUsd') row.costUsd += m.value;
      else row.usage[m.field] += m.value;
    }
    return out;
  }
}
