import { type AgentEvent, type AgentEventBase, clip, summarizeInput, timeOf } from './events.ts';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : 0);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** The session id in a rollout file name: `rollout-<date>T<time>-<uuid>.jsonl`. */
export function codexSessionIdOf(fileName: string): string | null {
  const m = /([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.jsonl$/i.exec(
    fileName,
  );
  return m ? (m[1] as string).toLowerCase() : null;
}

const WAITING: Record<string, 'permission' | 'question'> = {
  exec_approval_request: 'permission',
  apply_patch_approval_request: 'permission',
  request_user_input: 'question',
  elicitation_request: 'question',
};

/** Payload types of `event_msg` / `response_item` that carry nothing the model uses. */
const IGNORED = new Set([
  'agent_message',
  'agent_reasoning',
  'agent_reasoning_raw_content',
  'agent_reasoning_section_break',
  'reasoning',
  'message',
  'task_started',
  'turn_started',
  'web_search_call',
  'web_search_end',
  'exec_command_begin',
  'exec_command_end',
  'exec_command_output_delta',
  'patch_apply_begin',
  'patch_apply_end',
  'mcp_tool_call_begin',
  'mcp_tool_call_end',
  'ghost_snapshot',
  'entered_review_mode',
  'exited_review_mode',
  'turn_diff',
  'plan_update',
  'background_event',
  'stream_error',
  'shutdown_complete',
  'context_compacted',
]);

/**
 * Reads one Codex rollout file (`~/.codex/sessions/YYYY/MM/DD/rollout-…jsonl`):
 * lines `{timestamp, type, payload}` of type `session_meta`, `turn_context`,
 * `response_item`, `event_msg` and `compacted`. Stateful per file (the session
 * id and model come from earlier lines) but pure: no I/O, time passed in.
 */
export class CodexRolloutParser {
  #sessionId: string;
  #model: string | null = null;
  #window: number | null = null;
  /** Cumulative total of the last token count: a repeated count is the same response. */
  #lastTotal = -1;

  constructor(fallbackSessionId: string) {
    this.#sessionId = fallbackSessionId;
  }

  get sessionId(): string {
    return this.#sessionId;
  }

  /** Forgets what earlier lines said (the file was rewritten and is read again). */
  reset(): void {
    this.#model = null;
    this.#window = null;
    this.#lastTotal = -1;
  }

  parse(value: unknown, now: number): { events: AgentEvent[]; unknownType?: string } {
    if (!isObj(value)) return { events: [this.#warn(now, 'rollout line is not an object')] };
    const at = timeOf(value.timestamp, now);
    const type = str(value.type) ?? '';
    const p = isObj(value.payload) ? value.payload : null;
    if (!p) return { events: [], unknownType: type || '(none)' };
    const base = (): AgentEventBase => ({
      agent: 'codex',
      sessionId: this.#sessionId,
      agentId: null,
      at,
      source: 'transcript',
    });
    switch (type) {
      case 'session_meta': {
        const id = str(p.id);
        if (id) this.#sessionId = id.toLowerCase();
        const cwd = str(p.cwd);
        const branch = isObj(p.git) ? str(p.git.branch) : undefined;
        return {
          events: [
            {
              ...base(),
              type: 'meta',
              ...(cwd ? { cwd } : {}),
              ...(branch ? { gitBranch: branch } : {}),
            },
          ],
        };
      }
      case 'turn_context': {
        const model = str(p.model);
        if (model) this.#model = model;
        const cwd = str(p.cwd);
        return {
          events: [
            { ...base(), type: 'meta', ...(model ? { model } : {}), ...(cwd ? { cwd } : {}) },
          ],
        };
      }
      case 'compacted':
        return { events: [{ ...base(), type: 'compaction', trigger: 'auto', preTokens: null }] };
      case 'response_item':
        return this.#item(p, base());
      case 'event_msg':
        return this.#event(p, base());
      default:
        return { events: [], unknownType: type || '(none)' };
    }
  }

  #item(p: Obj, base: AgentEventBase): { events: AgentEvent[]; unknownType?: string } {
    const kind = str(p.type) ?? '';
    const callId = str(p.call_id) ?? str(p.id);
    switch (kind) {
      case 'function_call':
      case 'custom_tool_call':
      case 'local_shell_call': {
        if (!callId) return { events: [] };
        const name = str(p.name) ?? (kind === 'local_shell_call' ? 'shell' : 'tool');
        let input: unknown = p.arguments ?? p.input ?? p.action;
        if (typeof input === 'string') {
          try {
            input = JSON.parse(input);
          } catch {
            // Free-form input (apply_patch): summarised as text.
          }
        }
        return {
          events: [
            {
              ...base,
              type: 'tool_start',
              toolUseId: callId,
              name,
              summary: summarizeInput(name, input),
            },
          ],
        };
      }
      case 'function_call_output':
      case 'custom_tool_call_output': {
        if (!callId) return { events: [] };
        return {
          events: [
            {
              ...base,
              type: 'tool_end',
              toolUseId: callId,
              isError: outputFailed(p.output),
            },
          ],
        };
      }
      default:
        return IGNORED.has(kind) ? { events: [] } : { events: [], unknownType: `item:${kind}` };
    }
  }

  #event(p: Obj, base: AgentEventBase): { events: AgentEvent[]; unknownType?: string } {
    const kind = str(p.type) ?? '';
    const b = base;
    switch (kind) {
      case 'user_message': {
        const text = str(p.message);
        return { events: text ? [{ ...b, type: 'prompt', text: clip(text, 500) }] : [] };
      }
      case 'token_count': {
        const info = isObj(p.info) ? p.info : null;
        if (!info) return { events: [] };
        const window = num(info.model_context_window);
        if (window > 0) this.#window = window;
        const total = isObj(info.total_token_usage) ? num(info.total_token_usage.total_tokens) : 0;
        const last = isObj(info.last_token_usage) ? info.last_token_usage : null;
        // Codex repeats the last count (e.g. when rate limits refresh): same total, same response.
        if (!last || total === this.#lastTotal) return { events: [] };
        this.#lastTotal = total;
        const input = num(last.input_tokens);
        const cached = Math.min(num(last.cached_input_tokens), input);
        const events: AgentEvent[] = [];
        if (this.#window !== null) events.push({ ...b, type: 'meta', contextWindow: this.#window });
        events.push({
          ...b,
          type: 'response',
          key: `codex:${total}`,
          model: this.#model,
          // OpenAI counts cached tokens inside input and reasoning inside output.
          usage: {
            input: input - cached,
            output: num(last.output_tokens),
            cacheRead: cached,
            cacheWrite5m: 0,
            cacheWrite1h: 0,
          },
          contextTokens: num(last.total_tokens) || input + num(last.output_tokens),
          stopReason: null,
        });
        return { events };
      }
      case 'task_complete':
      case 'turn_complete':
      case 'turn_aborted':
        return { events: [{ ...b, type: 'turn_end' }] };
      case 'error':
        return {
          events: [{ ...b, type: 'error', message: clip(str(p.message) ?? 'error', 300) }],
        };
      default: {
        const reason = WAITING[kind];
        if (reason) {
          const message =
            str(p.reason) ??
            (Array.isArray(p.command) ? p.command.join(' ') : undefined) ??
            str(p.message) ??
            kind;
          return { events: [{ ...b, type: 'waiting', reason, message: clip(message, 300) }] };
        }
        return IGNORED.has(kind) ? { events: [] } : { events: [], unknownType: `event:${kind}` };
      }
    }
  }

  #warn(now: number, message: string): AgentEvent {
    return {
      agent: 'codex',
      sessionId: this.#sessionId,
      agentId: null,
      at: now,
      source: 'transcript',
      type: 'warning',
      message,
    };
  }
}

/** Whether a tool output says the call failed (a non-zero exit code, or `success: false`). */
function outputFailed(output: unknown): boolean {
  let o: unknown = output;
  if (typeof o === 'string') {
    if (!o.startsWith('{')) return /^(error|failed)\b/i.test(o);
    try {
      o = JSON.parse(o);
    } catch {
      return false;
    }
  }
  if (!isObj(o)) return false;
  if (o.success === false) return true;
  const meta = isObj(o.metadata) ? o.metadata : o;
  return typeof meta.exit_code === 'number' && meta.exit_code !== 0;
}
