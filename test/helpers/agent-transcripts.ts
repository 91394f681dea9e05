/**
 * Writers of Claude Code transcript lines and Codex rollout lines, shaped
 * like what those tools write (field names and nesting from their public
 * formats; the content is ours). Shared by unit, integration, e2e and bench.
 */

export interface ClaudeLineBase {
  sessionId: string;
  cwd?: string;
  gitBranch?: string;
  at: number;
  agentId?: string;
}

let uuidCounter = 0;
function uuid(): string {
  uuidCounter++;
  return `00000000-0000-4000-8000-${uuidCounter.toString(16).padStart(12, '0')}`;
}

function common(b: ClaudeLineBase) {
  return {
    parentUuid: null,
    isSidechain: b.agentId !== undefined,
    userType: 'external',
    cwd: b.cwd ?? '/home/dev/weather-app',
    sessionId: b.sessionId,
    version: '2.0.31',
    gitBranch: b.gitBranch ?? 'main',
    ...(b.agentId ? { agentId: b.agentId } : {}),
    uuid: uuid(),
    timestamp: new Date(b.at).toISOString(),
  };
}

export function claudePrompt(b: ClaudeLineBase, text: string): object {
  return { ...common(b), type: 'user', message: { role: 'user', content: text } };
}

export interface UsageSpec {
  input?: number;
  output?: number;
  cacheRead?: number;
  cache5m?: number;
  cache1h?: number;
}

function usage(u: UsageSpec) {
  const w5 = u.cache5m ?? 0;
  const w1 = u.cache1h ?? 0;
  return {
    input_tokens: u.input ?? 0,
    cache_creation_input_tokens: w5 + w1,
    cache_read_input_tokens: u.cacheRead ?? 0,
    cache_creation: { ephemeral_5m_input_tokens: w5, ephemeral_1h_input_tokens: w1 },
    output_tokens: u.output ?? 0,
    service_tier: 'standard',
  };
}

export interface AssistantSpec {
  messageId: string;
  requestId: string;
  model?: string;
  usage: UsageSpec;
  stopReason?: string | null;
  text?: string;
  toolUse?: { id: string; name: string; input: Record<string, unknown> };
}

/** One line of an assistant response: Claude Code writes one per content block, repeating usage. */
export function claudeAssistant(b: ClaudeLineBase, a: AssistantSpec): object {
  const content: object[] = [];
  if (a.text !== undefined) content.push({ type: 'text', text: a.text });
  if (a.toolUse) content.push({ type: 'tool_use', ...a.toolUse });
  return {
    ...common(b),
    type: 'assistant',
    requestId: a.requestId,
    message: {
      id: a.messageId,
      type: 'message',
      role: 'assistant',
      model: a.model ?? 'claude-sonnet-4-5-20250929',
      content,
      stop_reason: a.stopReason ?? null,
      stop_sequence: null,
      usage: usage(a.usage),
    },
  };
}

export function claudeToolResult(
  b: ClaudeLineBase,
  toolUseId: string,
  opts: { isError?: boolean; text?: string; agentId?: string } = {},
): object {
  return {
    ...common(b),
    type: 'user',
    message: {
      role: 'user',
      content: [
        {
          tool_use_id: toolUseId,
          type: 'tool_result',
          content: opts.text ?? 'done',
          is_error: opts.isError ?? false,
        },
      ],
    },
    toolUseResult: opts.agentId
      ? { status: 'completed', agentId: opts.agentId, totalTokens: 0 }
      : { stdout: opts.text ?? 'done', stderr: '', interrupted: false },
  };
}

export function claudeCompaction(b: ClaudeLineBase, preTokens: number): object {
  return {
    ...common(b),
    type: 'system',
    subtype: 'compact_boundary',
    content: 'Conversation compacted',
    level: 'info',
    compactMetadata: { trigger: 'auto', preTokens },
  };
}

export function claudeSummary(title: string): object {
  return { type: 'summary', summary: title, leafUuid: uuid() };
}

export function lines(values: object[]): string {
  return values.map((v) => `${JSON.stringify(v)}\n`).join('');
}

/** Codex rollout lines: `{timestamp, type, payload}`. */
export function codexLine(at: number, type: string, payload: Record<string, unknown>): object {
  return { timestamp: new Date(at).toISOString(), type, payload };
}

export function codexSessionMeta(at: number, id: string, cwd: string): object {
  return codexLine(at, 'session_meta', {
    id,
    timestamp: new Date(at).toISOString(),
    cwd,
    originator: 'codex_cli_rs',
    cli_version: '0.46.0',
    instructions: null,
    git: { commit_hash: 'abc123', branch: 'feature/x', repository_url: null },
  });
}

export function codexTurnContext(at: number, model: string, cwd: string): object {
  return codexLine(at, 'turn_context', {
    cwd,
    approval_policy: 'on-request',
    sandbox_policy: { mode: 'workspace-write' },
    model,
    effort: 'medium',
    summary: 'auto',
  });
}

export function codexTokenCount(
  at: number,
  total: { input: number; cached: number; output: number },
  last: { input: number; cached: number; output: number },
): object {
  const u = (x: { input: number; cached: number; output: number }) => ({
    input_tokens: x.input,
    cached_input_tokens: x.cached,
    output_tokens: x.output,
    reasoning_output_tokens: Math.floor(x.output / 2),
    total_tokens: x.input + x.output,
  });
  return codexLine(at, 'event_msg', {
    type: 'token_count',
    info: {
      total_token_usage: u(total),
      last_token_usage: u(last),
      model_context_window: 272000,
    },
    rate_limits: { primary: { used_percent: 3, window_minutes: 300 } },
  });
}
