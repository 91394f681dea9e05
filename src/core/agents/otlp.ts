import type { AgentKind, TokenUsage } from '../../shared/agents.ts';
import { jsonTextTooDeep } from '../../shared/json-depth.ts';
import { type AgentEvent, type AgentEventBase, clip, summarizeInput } from './events.ts';

/** A scalar attribute value of an OTLP record; nested values (arrays, maps) are not read. */
export type OtlpScalar = string | number | boolean;

/** One OTLP log record, its resource's attributes merged under its own. */
export interface OtlpLogRecord {
  /** `event.name`, else the record's `eventName`, else a string body. */
  name: string;
  attrs: Record<string, OtlpScalar>;
  /** Epoch ms of `timeUnixNano` (else `observedTimeUnixNano`), null when neither is set. */
  timeMs: number | null;
}

/** One point of an OTLP Sum or Gauge metric. */
export interface OtlpMetricPoint {
  name: string;
  attrs: Record<string, OtlpScalar>;
  value: number;
  /** Cumulative temporality: the point is the series' total since `startMs`; else a delta. */
  cumulative: boolean;
  startMs: number | null;
  timeMs: number | null;
}

/** What became of each record or point: for the receiver's counters and tests. */
export type OtlpOutcome = 'applied' | 'ignored' | 'unknown' | 'unattributed';

const num = (v: OtlpScalar | undefined): number => {
  const n = typeof v === 'string' ? Number(v) : typeof v === 'number' ? v : Number.NaN;
  return Number.isFinite(n) && n > 0 ? n : 0;
};
const str = (v: OtlpScalar | undefined): string | undefined =>
  typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined;
const truthy = (v: OtlpScalar | undefined): boolean | null =>
  v === true || v === 'true' ? true : v === false || v === 'false' ? false : null;

/** Claude Code's events (`claude_code.<name>`; `event.name` is `<name>`) this model reads. */
const CLAUDE_EVENTS = new Set([
  'user_prompt',
  'api_request',
  'api_error',
  'tool_result',
  'tool_decision',
]);
/** Claude Code events known and deliberately not used (raw bodies, decisions are not state). */
const CLAUDE_IGNORED = new Set(['api_request_body', 'api_response_body']);
/** Codex's events (`codex.<name>`) this model reads. */
const CODEX_EVENTS = new Set([
  'conversation_starts',
  'user_prompt',
  'api_request',
  'sse_event',
  'tool_decision',
  'tool_result',
]);

function kindOf(r: OtlpLogRecord): { agent: AgentKind; event: string } | null {
  const name = r.name;
  if (name.startsWith('claude_code.')) return { agent: 'claude', event: name.slice(12) };
  if (name.startsWith('codex.')) return { agent: 'codex', event: name.slice(6) };
  const service = str(r.attrs['service.name']) ?? '';
  if (/^claude[-_]code/.test(service)) return { agent: 'claude', event: name };
  if (/^codex/.test(service)) return { agent: 'codex', event: name };
  // Claude Code's `event.name` carries no prefix; its session id says whose it is.
  if (CLAUDE_EVENTS.has(name) && r.attrs['session.id'] !== undefined)
    return { agent: 'claude', event: name };
  return null;
}

/**
 * OTLP log records (Claude Code's `claude_code.*` and Codex's `codex.*`
 * events) → agent events. Attribute names are the vendors' documented ones:
 * Claude Code sends `session.id`, `prompt.id`, `event.sequence` and per event
 * `model`, `cost_usd`, `input_tokens`, `output_tokens`, `cache_read_tokens`,
 * `cache_creation_tokens`, `request_id`, `tool_name`, `tool_use_id`,
 * `success`, `duration_ms`; Codex sends `conversation.id`, `model` and per
 * event `input_token_count`, `cached_token_count`, `output_token_count`,
 * `call_id`. Values may come as strings (Claude Code sends numbers as text).
 * A tool result without its tool-use id cannot be joined with the
 * transcript's, so it is not counted (as with hooks).
 */
export function otlpLogEvents(
  records: readonly OtlpLogRecord[],
  now: number,
): { events: AgentEvent[]; outcomes: OtlpOutcome[] } {
  const events: AgentEvent[] = [];
  const outcomes: OtlpOutcome[] = [];
  for (const r of records) {
    const kind = kindOf(r);
    if (!kind) {
      outcomes.push('unknown');
      continue;
    }
    const sessionId = str(
      kind.agent === 'claude' ? r.attrs['session.id'] : r.attrs['conversation.id'],
    );
    if (!sessionId || sessionId.length > 512) {
      outcomes.push('unattributed');
      continue;
    }
    const at = r.timeMs ?? now;
    const agentId = str(r.attrs['agent.id']) ?? str(r.attrs.agent_id) ?? null;
    const base: AgentEventBase = { agent: kind.agent, sessionId, agentId, at, source: 'otel' };
    const out =
      kind.agent === 'claude'
        ? claudeRecord(kind.event, r, base)
        : codexRecord(kind.event, r, base);
    if (out === null) {
      outcomes.push(
        (kind.agent === 'claude' ? CLAUDE_IGNORED : new Set<string>()).has(kind.event)
          ? 'ignored'
          : 'unknown',
      );
      continue;
    }
    events.push(...out);
    outcomes.push(out.length > 0 ? 'applied' : 'ignored');
  }
  return { events, outcomes };
}

function toolParameters(raw: OtlpScalar | undefined): unknown {
  if (typeof raw !== 'string' || raw.length > 64 * 1024 || jsonTextTooDeep(raw)) return raw;
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

/**
 * A tool call OTel reports once, when it has ended: its start and its end. The
 * vendors name the call's id and its input differently (Claude Code
 * `tool_use_id`/`tool_parameters`, Codex `call_id`/`arguments`).
 */
function toolResult(
  base: AgentEventBase,
  a: OtlpLogRecord['attrs'],
  idKey: string,
  inputKey: string,
): AgentEvent[] {
  const id = str(a[idKey]);
  if (!id) return [];
  const name = str(a.tool_name) ?? 'tool';
  return [
    {
      ...base,
      at: base.at - num(a.duration_ms),
      type: 'tool_start',
      toolUseId: id,
      name,
      summary: summarizeInput(name, toolParameters(a[inputKey])),
    },
    { ...base, type: 'tool_end', toolUseId: id, isError: truthy(a.success) === false },
  ];
}

/** null: an event this model does not know. */
function claudeRecord(event: string, r: OtlpLogRecord, base: AgentEventBase): AgentEvent[] | null {
  const a = r.attrs;
  switch (event) {
    case 'user_prompt': {
      // The text is sent only with OTEL_LOG_USER_PROMPTS=1; without it the prompt is a touch.
      const text = str(a.prompt);
      return text
        ? [{ ...base, type: 'prompt', text: clip(text, 500) }]
        : [{ ...base, type: 'meta' }];
    }
    case 'api_request': {
      const requestId = str(a.request_id);
      const sequence = str(a['event.sequence']);
      const usage: TokenUsage = {
        input: num(a.input_tokens),
        output: num(a.output_tokens),
        cacheRead: num(a.cache_read_tokens),
        // OTel does not split cache writes by lifetime; the transcript's copy does.
        cacheWrite5m: num(a.cache_creation_tokens),
        cacheWrite1h: 0,
      };
      const cost = a.cost_usd === undefined ? Number.NaN : Number(a.cost_usd);
      return [
        {
          ...base,
          type: 'response',
          key: `otel:${requestId ?? `${str(a['prompt.id']) ?? ''}:${sequence ?? base.at}`}`,
          model: str(a.model) ?? null,
          usage,
          ...(Number.isFinite(cost) && cost >= 0 ? { costUsd: cost } : {}),
          stopReason: null,
          ...(requestId ? { requestId } : {}),
        },
      ];
    }
    case 'api_error': {
      const status = str(a.status_code);
      const message = str(a.error) ?? 'API error';
      return [
        { ...base, type: 'error', message: clip(status ? `${status} ${message}` : message, 300) },
      ];
    }
    case 'tool_result':
      return toolResult(base, a, 'tool_use_id', 'tool_parameters');
    case 'tool_decision':
      return [];
    default:
      return CLAUDE_IGNORED.has(event) ? [] : null;
  }
}

function codexRecord(event: string, r: OtlpLogRecord, base: AgentEventBase): AgentEvent[] | null {
  if (!CODEX_EVENTS.has(event)) return null;
  const a = r.attrs;
  switch (event) {
    case 'conversation_starts': {
      const model = str(a.model);
      return [{ ...base, type: 'meta', ...(model ? { model } : {}) }];
    }
    case 'user_prompt': {
      const text = str(a.prompt);
      return text
        ? [{ ...base, type: 'prompt', text: clip(text, 500) }]
        : [{ ...base, type: 'meta' }];
    }
    case 'sse_event': {
      if (str(a['event.kind']) !== 'response.completed') return [];
      const input = num(a.input_token_count);
      const cached = Math.min(num(a.cached_token_count), input);
      const output = num(a.output_token_count);
      if (input + output === 0) return [];
      return [
        {
          ...base,
          type: 'response',
          key: `otel:codex:${input}:${output}:${base.at}`,
          model: str(a.model) ?? null,
          // As in the rollout files: cached tokens are inside the input count.
          usage: {
            input: input - cached,
            output,
            cacheRead: cached,
            cacheWrite5m: 0,
            cacheWrite1h: 0,
          },
          stopReason: null,
        },
      ];
    }
    case 'tool_result':
      return toolResult(base, a, 'call_id', 'arguments');
    default:
      return [];
  }
}

/** Claude Code's metrics: the two this model reads, and those it knows and leaves. */
const CLAUDE_METRICS_IGNORED = new Set([
  'claude_code.session.count',
  'claude_code.lines_of_code.count',
  'claude_code.pull_request.count',
  'claude_code.commit.count',
  'claude_code.code_edit_tool.decision',
  'claude_code.active_time.total',
]);
const TOKEN_TYPES: Record<string, keyof TokenUsage> = {
  input: 'input',
  output: 'output',
  cacheRead: 'cacheRead',
  cacheCreation: 'cacheWrite5m',
};

/**
 * OTLP metric points → agent events: `claude_code.cost.usage` (USD, by
 * `model`) and `claude_code.token.usage` (by `model` and `type`: input,
 * output, cacheRead, cacheCreation), each with `session.id`. Delta points add
 * to their series, cumulative ones replace it. Other metrics are counted and
 * left.
 */
export function otlpMetricEvents(
  points: readonly OtlpMetricPoint[],
  now: number,
): { events: AgentEvent[]; outcomes: OtlpOutcome[] } {
  const events: AgentEvent[] = [];
  const outcomes: OtlpOutcome[] = [];
  for (const p of points) {
    const cost = p.name === 'claude_code.cost.usage';
    if (!cost && p.name !== 'claude_code.token.usage') {
      outcomes.push(CLAUDE_METRICS_IGNORED.has(p.name) ? 'ignored' : 'unknown');
      continue;
    }
    const sessionId = str(p.attrs['session.id']);
    const field = cost ? 'costUsd' : TOKEN_TYPES[str(p.attrs.type) ?? ''];
    if (!sessionId || sessionId.length > 512 || !field) {
      outcomes.push(sessionId ? 'unknown' : 'unattributed');
      continue;
    }
    const model = str(p.attrs.model) ?? 'unknown';
    const series = `${p.name}|${model}|${field}|${p.cumulative ? (p.startMs ?? '') : ''}`;
    events.push({
      agent: 'claude',
      sessionId,
      agentId: null,
      at: p.timeMs ?? now,
      source: 'otel',
      type: 'usage_metric',
      series,
      point: `${series}|${p.startMs ?? ''}|${p.timeMs ?? ''}|${p.value}`,
      model,
      field,
      value: p.value,
      cumulative: p.cumulative,
    });
    outcomes.push('applied');
  }
  return { events, outcomes };
}
