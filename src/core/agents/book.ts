import type { TokenUsage } from '../../shared/agents.ts';
import {
  addContribution,
  moveResponse,
  type ResponseAliases,
  responseAliases,
} from './contributions.ts';
import type { AgentEvent, AgentEventOf } from './events.ts';
import { costOf, type PriceTable, priceOf } from './prices.ts';
import {
  type AgentNodeState,
  AgentSessionState,
  aliasOfKey,
  type SeenResponse,
  type ToolCallState,
} from './session.ts';
import { diffUsage, hash53, maxUsage, sameUsage, zeroUsage } from './usage.ts';

/** Tool names whose call is a question to the user: the session waits while it runs. */
const QUESTION_TOOLS = new Set(['AskUserQuestion', 'ExitPlanMode', 'request_user_input']);
/** Tool names that start a subagent. */
const TASK_TOOLS = new Set(['Task', 'Agent']);

/**
 * A session with no event for this long (event time) and none among the last
 * `TRIM_EVENTS` applied forgets its recent responses: the copies that join
 * them (a fuller line, OTel's record) come within seconds, and a month of
 * history then keeps 256 per active session only, in memory and checkpoints.
 */
const TRIM_IDLE_MS = 30 * 60_000;
const TRIM_EVENTS = 20_000;

/** Counters of what the book did with its input, for /metrics and tests. */
export interface AgentBookStats {
  events: number;
  responses: number;
  /** Response lines that were copies of one already counted (same key, not fuller). */
  duplicates: number;
  warnings: number;
  resets: number;
}

/**
 * Every coding-agent session: applies agent events from any source and keeps
 * each session's derived state. Pure (no I/O, no clock: times come with the
 * events). Each API response and each tool call counts once, whichever
 * sources report it and however often: responses by key (fullest copy wins,
 * only the difference is added), tool calls by tool-use id, across sessions
 * too (a resumed session copies its predecessor's lines).
 */
export class AgentBook {
  readonly sessions = new Map<string, AgentSessionState>();
  readonly stats: AgentBookStats = {
    events: 0,
    responses: 0,
    duplicates: 0,
    warnings: 0,
    resets: 0,
  };
  #prices: PriceTable;
  /** Hashes of every response key and tool-use id counted, over all sessions. */
  readonly #counted = new Set<number>();
  readonly #filesToSessions = new Map<string, Set<string>>();
  /** The newest event time seen: the book's notion of now (it has no clock). */
  #latest = 0;

  constructor(prices: PriceTable) {
    this.#prices = prices;
  }

  get prices(): PriceTable {
    return this.#prices;
  }

  /**
   * Applies one event; `file` is the transcript it was read from (so a
   * rewritten file can be taken back). Returns the id of the session it
   * changed, or null.
   */
  apply(e: AgentEvent, file: string | null = null): string | null {
    this.stats.events++;
    if (e.at > this.#latest) this.#latest = e.at;
    if (this.stats.events % 4096 === 0) this.#trimIdle();
    let s = this.sessions.get(e.sessionId);
    if (!s) {
      if (e.type === 'warning' && !this.sessions.has(e.sessionId)) {
        this.stats.warnings++;
        return null;
      }
      s = new AgentSessionState(e.sessionId, e.agent, e.at);
      this.sessions.set(e.sessionId, s);
    }
    if (file) {
      let set = this.#filesToSessions.get(file);
      if (!set) {
        set = new Set();
        this.#filesToSessions.set(file, set);
      }
      set.add(s.id);
    }
    s.touch(e.at);
    s.appliedAt = this.stats.events;
    s.version++;
    const node = s.node(e.agentId, e.at, e.source === 'transcript' ? file : null);
    const main = e.agentId === null;
    switch (e.type) {
      case 'meta':
        if (e.cwd && (main || s.cwd === '')) s.cwd = e.cwd;
        if (e.gitBranch && main) s.gitBranch = e.gitBranch;
        if (e.title && main) s.title = e.title;
        if (e.model) {
          node.model = e.model;
          if (main) s.model = e.model;
        }
        if (e.contextWindow) s.contextWindow = e.contextWindow;
        break;
      case 'prompt':
        if (!s.acceptPrompt(`${e.agentId ?? ''}\n${e.text}`, e.at, e.source)) break;
        node.prompts++;
        if (node.firstPrompt === null) {
          node.firstPrompt = e.text;
          if (!main) this.#linkByPrompt(s, node, e.text);
        }
        if (main) {
          s.note('prompts', { at: e.at, text: e.text });
          s.setState('working', e.at);
        }
        break;
      case 'response':
        this.#response(s, node, e);
        break;
      case 'usage_metric':
        this.#usageMetric(s, e);
        break;
      case 'tool_start':
        this.#toolStart(s, node, e);
        break;
      case 'tool_end':
        this.#toolEnd(s, node, e);
        break;
      case 'turn_end':
        if (main && s.runningTools() === 0) s.setState('idle', e.at);
        else if (main) s.setState('working', e.at);
        break;
      case 'waiting':
        s.setState('waiting', e.at, { reason: e.reason, message: e.message, since: e.at });
        break;
      case 'compaction':
        s.compactions++;
        s.note('events', {
          at: e.at,
          kind: 'compaction',
          text: e.preTokens ? `${e.trigger} compaction at ${e.preTokens} tokens` : e.trigger,
        });
        break;
      case 'error':
        // The transcript records the API errors that ended a request; OTel's api_error
        // fires per attempt and has nothing to join it by: it counts only without one.
        if (e.source === 'otel' && [...s.nodes.values()].some((n) => n.file !== null)) break;
        s.errors++;
        s.note('events', { at: e.at, kind: 'error', text: e.message });
        break;
      case 'subagent_start':
        if (e.agentType) node.type = e.agentType;
        if (e.prompt && node.firstPrompt === null) {
          node.firstPrompt = e.prompt;
          this.#linkByPrompt(s, node, e.prompt);
        }
        break;
      case 'subagent_end':
        break;
      case 'session_end':
        s.setState('ended', e.at);
        break;
      case 'warning':
        s.warnings++;
        this.stats.warnings++;
        break;
    }
    return s.id;
  }

  /**
   * Takes back everything a transcript contributed (it was rewritten or
   * truncated and is read again from its start). Returns the sessions changed.
   */
  resetFile(file: string): string[] {
    const ids = [...(this.#filesToSessions.get(file) ?? [])];
    this.#filesToSessions.delete(file);
    this.stats.resets++;
    for (const id of ids) {
      const s = this.sessions.get(id);
      if (!s) continue;
      s.version++;
      for (const node of s.nodes.values()) {
        if (node.file !== file) continue;
        for (const k of node.keys) this.#counted.delete(k);
        node.keys = [];
        node.models.clear();
        node.phases = {};
        node.toolCalls = 0;
        node.toolErrors = 0;
        node.prompts = 0;
        for (const [key, seen] of s.recent) if (seen.node === node) s.forgetResponse(key);
        for (const [tid, call] of s.tools) if (call.agentId === node.agentId) s.tools.delete(tid);
      }
    }
    return ids;
  }

  /** Forgets the recent responses of sessions long idle (see `TRIM_IDLE_MS`). */
  #trimIdle(): void {
    for (const s of this.sessions.values()) {
      if (s.recent.size === 0) continue;
      if (s.lastAt > this.#latest - TRIM_IDLE_MS) continue;
      if (s.appliedAt > this.stats.events - TRIM_EVENTS) continue;
      s.recent.clear();
      s.aliases.clear();
      s.version++;
    }
  }

  /** Adds a session restored from a checkpoint, with what it counted. */
  adopt(s: AgentSessionState): void {
    this.sessions.set(s.id, s);
    if (s.lastAt > this.#latest) this.#latest = s.lastAt;
    for (const node of s.nodes.values()) {
      for (const k of node.keys) this.#counted.add(k);
      if (node.file === null) continue;
      let set = this.#filesToSessions.get(node.file);
      if (!set) {
        set = new Set();
        this.#filesToSessions.set(node.file, set);
      }
      set.add(s.id);
    }
  }

  /** Drops sessions whose last activity is before `before`; returns their ids. */
  forget(before: number): string[] {
    const gone: string[] = [];
    for (const [id, s] of this.sessions) {
      if (s.lastAt >= before) continue;
      for (const node of s.nodes.values()) for (const k of node.keys) this.#counted.delete(k);
      this.sessions.delete(id);
      gone.push(id);
    }
    if (gone.length > 0) {
      const dropped = new Set(gone);
      for (const [file, set] of this.#filesToSessions) {
        for (const id of set) if (dropped.has(id)) set.delete(id);
        if (set.size === 0) this.#filesToSessions.delete(file);
      }
    }
    return gone;
  }

  #response(s: AgentSessionState, node: AgentNodeState, e: AgentEventOf<'response'>): void {
    const model = e.model ?? node.model ?? s.model ?? 'unknown';
    if (e.model) {
      node.model = e.model;
      if (node.agentId === null) s.model = e.model;
    }
    const price = priceOf(this.#prices, model);
    const cost = (u: TokenUsage) => (price ? costOf(price, u) : 0);
    if (node.agentId === null && e.contextTokens !== undefined && e.at >= s.contextAt) {
      s.contextTokens = e.contextTokens;
      s.contextAt = e.at;
    }
    const otel = e.source === 'otel';
    const aliases = responseAliases(e);
    const found = this.#join(s, e.key, aliases, otel);
    if (found) {
      const { key, seen } = found;
      if (key !== e.key) s.addAlias(key, aliasOfKey(e.key));
      if (aliases.request !== null) s.addAlias(key, aliases.request);
      if (aliases.tokens !== null) s.addAlias(key, aliases.tokens);
      if (!otel && !seen.fromTranscript && seen.node !== node) moveResponse(seen, node, key);
      // Tokens: the transcript's when it has them (it splits 5-minute and 1-hour cache
      // writes, OTel does not); OTel's only until the transcript's copy arrives.
      let next: TokenUsage;
      if (otel && seen.fromTranscript) next = seen.usage;
      else if (!otel && !seen.fromTranscript)
        next = { ...e.usage, output: Math.max(seen.usage.output, e.usage.output) };
      else next = maxUsage(seen.usage, e.usage);
      const vendor = e.costUsd !== undefined;
      const nextCost = vendor ? (e.costUsd as number) : seen.vendorCost ? seen.costUsd : cost(next);
      if (vendor && !seen.vendorCost && price === null && s.unpricedResponses > 0) {
        s.unpricedResponses--;
      }
      seen.fromOtel ||= otel;
      seen.fromTranscript ||= !otel;
      if (sameUsage(next, seen.usage) && nextCost === seen.costUsd) {
        this.stats.duplicates++;
        this.#afterResponse(s, e);
        return;
      }
      const diff = diffUsage(next, seen.usage);
      addContribution(
        seen.node,
        seen.model,
        seen.phase,
        diff,
        nextCost - seen.costUsd,
        price !== null || vendor,
      );
      seen.usage = next;
      seen.costUsd = nextCost;
      seen.vendorCost = seen.vendorCost || vendor;
      this.#afterResponse(s, e);
      return;
    }
    const h = hash53(`r:${e.key}`);
    if (this.#counted.has(h)) {
      this.stats.duplicates++;
      return;
    }
    this.#counted.add(h);
    node.keys.push(h);
    this.stats.responses++;
    const usage = { ...zeroUsage(), ...e.usage };
    const costUsd = e.costUsd ?? cost(usage);
    const phase = e.phase ?? `context ${s.compactions + 1}`;
    const priced = price !== null || e.costUsd !== undefined;
    addContribution(node, model, phase, usage, costUsd, priced, 1);
    if (!priced) s.unpricedResponses++;
    s.rememberResponse(e.key, {
      node,
      model,
      usage,
      costUsd,
      vendorCost: e.costUsd !== undefined,
      phase,
      fromTranscript: !otel,
      fromOtel: otel,
      aliases: [aliases.request, aliases.tokens].filter((a): a is number => a !== null),
    });
    this.#afterResponse(s, e);
  }

  /**
   * The response already counted that this copy is: by its own key, by
   * request id, or (from the other source only) by its input tokens, which
   * every copy of one response repeats exactly and which differ between the
   * responses of a session as its context grows.
   */
  #join(
    s: AgentSessionState,
    key: string,
    aliases: ResponseAliases,
    otel: boolean,
  ): { key: string; seen: SeenResponse } | null {
    const own = s.findResponse(key);
    if (own) return own;
    const byRequest = aliases.request === null ? null : s.findAlias(aliases.request);
    if (byRequest) return byRequest;
    const byTokens = aliases.tokens === null ? null : s.findAlias(aliases.tokens);
    if (!byTokens) return null;
    return (otel ? !byTokens.seen.fromOtel : !byTokens.seen.fromTranscript) ? byTokens : null;
  }

  #usageMetric(s: AgentSessionState, e: AgentEventOf<'usage_metric'>): void {
    if (!Number.isFinite(e.value) || e.value < 0) return;
    if (!s.acceptMetricPoint(hash53(`m:${e.point}`))) {
      this.stats.duplicates++;
      return;
    }
    const series = s.metricSeries[e.series];
    if (!series) s.metricSeries[e.series] = { model: e.model, field: e.field, value: e.value };
    else if (e.cumulative) series.value = e.value;
    else series.value += e.value;
  }

  #afterResponse(s: AgentSessionState, e: AgentEventOf<'response'>): void {
    if (e.agentId !== null || e.source !== 'transcript') return;
    if (e.stopReason === 'end_turn' && s.runningTools() === 0) s.setState('idle', e.at);
    else if (s.state !== 'waiting') s.setState('working', e.at);
  }

  #toolStart(s: AgentSessionState, node: AgentNodeState, e: AgentEventOf<'tool_start'>): void {
    const known = s.tools.get(e.toolUseId);
    if (known) {
      // The same call from a second source: fill in what the first one lacked.
      if (known.summary === '' && e.summary !== '') known.summary = e.summary;
      if (known.prompt === null && e.prompt) known.prompt = e.prompt;
      if (e.at < known.startedAt) known.startedAt = e.at;
      return;
    }
    const h = hash53(`t:${e.toolUseId}`);
    if (this.#counted.has(h)) return;
    this.#counted.add(h);
    node.keys.push(h);
    node.toolCalls++;
    s.startTool(e, e.agentType ?? null);
    if (QUESTION_TOOLS.has(e.name)) {
      s.setState('waiting', e.at, { reason: 'question', message: e.summary, since: e.at });
    } else if (s.state !== 'waiting' || e.at > (s.waitingFor?.since ?? 0)) {
      s.setState('working', e.at);
    }
  }

  #toolEnd(s: AgentSessionState, node: AgentNodeState, e: AgentEventOf<'tool_end'>): void {
    const call = s.tools.get(e.toolUseId);
    if (!call) {
      // A result without its call: the call left the capped timeline, or a hook missed it.
      return;
    }
    if (call.outcome === 'running') {
      call.outcome = e.isError ? 'error' : 'ok';
      call.endedAt = Math.max(e.at, call.startedAt);
      if (e.isError) {
        const owner = s.nodes.get(call.agentId) ?? node;
        owner.toolErrors++;
      }
    }
    if (e.spawnedAgentId) {
      const child = s.node(e.spawnedAgentId, call.startedAt, null);
      this.#link(child, call);
    }
    if (s.state === 'waiting' && s.waitingFor && e.at >= s.waitingFor.since) {
      s.setState('working', e.at);
    }
  }

  /** A subagent's first prompt is the prompt of the Task call that started it. */
  #linkByPrompt(s: AgentSessionState, node: AgentNodeState, prompt: string): void {
    if (node.toolUseId !== null) return;
    const head = prompt.slice(0, 120);
    for (const call of s.tools.values()) {
      if (!TASK_TOOLS.has(call.name) || call.prompt === null) continue;
      if (call.prompt.slice(0, 120) !== head) continue;
      const taken = [...s.nodes.values()].some((n) => n.toolUseId === call.id);
      if (!taken) {
        this.#link(node, call);
        return;
      }
    }
  }

  #link(node: AgentNodeState, call: ToolCallState): void {
    if (node.agentId === call.agentId) return;
    node.parentId = call.agentId;
    node.toolUseId = call.id;
    if (node.description === null && call.summary !== '') node.description = call.summary;
    if (node.type === null && call.agentType !== null) node.type = call.agentType;
  }
}
