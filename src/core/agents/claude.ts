import type { TokenUsage } from '../../shared/agents.ts';
import { type AgentEvent, clip, summarizeInput, timeOf } from './events.ts';

/** Where a transcript line was read: what the path says when the line does not. */
export interface ClaudeFileContext {
  /** From `<sessionId>.jsonl` or the `<sessionId>/subagents/` folder. */
  sessionId: string;
  /** From `subagents/agent-<agentId>.jsonl`; null for the main transcript. */
  agentId: string | null;
  /** Time for lines without a timestamp. */
  now: number;
}

/** Line types Claude Code writes that carry nothing the session model uses. */
const IGNORED = new Set([
  'file-history-snapshot',
  'queue-operation',
  'progress',
  'custom-title',
  'tag',
  'agent-name',
  'pr-link',
  'last-prompt',
]);

export interface ParsedLine {
  events: AgentEvent[];
  /** Set when the line's `type` is one this parser does not know (counted, not an error). */
  unknownType?: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : 0);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** Anthropic usage → ours: cache writes split by lifetime when the split is given, else 5-minute. */
export function claudeUsage(u: Obj): TokenUsage {
  const created = num(u.cache_creation_input_tokens);
  const split = isObj(u.cache_creation) ? u.cache_creation : null;
  const w1h = split ? num(split.ephemeral_1h_input_tokens) : 0;
  const w5m = split ? num(split.ephemeral_5m_input_tokens) : 0;
  const splitKnown = split !== null && w1h + w5m > 0;
  return {
    input: num(u.input_tokens),
    output: num(u.output_tokens),
    cacheRead: num(u.cache_read_input_tokens),
    cacheWrite5m: splitKnown ? w5m : created,
    cacheWrite1h: splitKnown ? w1h : 0,
  };
}

/** The text of a user message that is a prompt, or null (tool results, meta lines, injected context). */
function promptText(content: unknown): string | null {
  if (typeof content === 'string') return content.trim() === '' ? null : content;
  if (!Array.isArray(content)) return null;
  const texts = content
    .filter((b): b is Obj => isObj(b) && b.type === 'text' && typeof b.text === 'string')
    .map((b) => b.text as string);
  return texts.length > 0 ? texts.join('\n') : null;
}

/**
 * One Claude Code transcript line (already JSON-parsed) → agent events.
 * Never throws: a value of the wrong shape yields a warning event.
 */
export function parseClaudeLine(value: unknown, ctx: ClaudeFileContext): ParsedLine {
  if (!isObj(value)) return { events: [warn(ctx, 'transcript line is not an object')] };
  const type = typeof value.type === 'string' ? value.type : '';
  const at = timeOf(value.timestamp, ctx.now);
  const sessionId = str(value.sessionId) ?? ctx.sessionId;
  const agentId =
    ctx.agentId ?? (value.isSidechain === true ? (str(value.agentId) ?? 'sidechain') : null);
  const base = { agent: 'claude' as const, sessionId, agentId, at, source: 'transcript' as const };
  const events: AgentEvent[] = [];
  const meta = (): void => {
    const cwd = str(value.cwd);
    const gitBranch = str(value.gitBranch);
    if (cwd || gitBranch) {
      events.push({
        ...base,
        type: 'meta',
        ...(cwd ? { cwd } : {}),
        ...(gitBranch ? { gitBranch } : {}),
      });
    }
  };

  switch (type) {
    case 'user': {
      meta();
      const message = isObj(value.message) ? value.message : {};
      const content = message.content;
      if (Array.isArray(content)) {
        const spawned = isObj(value.toolUseResult) ? str(value.toolUseResult.agentId) : undefined;
        for (const block of content) {
          if (!isObj(block) || block.type !== 'tool_result') continue;
          const id = str(block.tool_use_id);
          if (!id) continue;
          events.push({
            ...base,
            type: 'tool_end',
            toolUseId: id,
            isError: block.is_error === true,
            ...(spawned ? { spawnedAgentId: spawned } : {}),
          });
        }
      }
      if (value.isMeta !== true && value.isCompactSummary !== true) {
        const text = promptText(content);
        if (text !== null && !/^\s*<(local-command|command-|system-reminder)/.test(text)) {
          if (/^\[Request interrupted by user/.test(text))
            events.push({ ...base, type: 'turn_end' });
          else events.push({ ...base, type: 'prompt', text: clip(text, 500) });
        }
      }
      return { events };
    }
    case 'assistant': {
      meta();
      const message = isObj(value.message) ? value.message : null;
      if (!message) return { events: [...events, warn(ctx, 'assistant line without message')] };
      const model = str(message.model) ?? null;
      if (value.isApiErrorMessage === true || value.error !== undefined) {
        const text = promptText(message.content) ?? str(value.error) ?? 'API error';
        events.push({ ...base, type: 'error', message: clip(text, 300) });
      }
      const content = Array.isArray(message.content) ? message.content : [];
      for (const block of content) {
        if (!isObj(block) || block.type !== 'tool_use') continue;
        const id = str(block.id);
        const name = str(block.name) ?? 'tool';
        if (!id) continue;
        const input = block.input;
        const prompt = isObj(input) ? str(input.prompt) : undefined;
        const agentType = isObj(input) ? str(input.subagent_type) : undefined;
        events.push({
          ...base,
          type: 'tool_start',
          toolUseId: id,
          name,
          summary: summarizeInput(name, input),
          ...(prompt ? { prompt: clip(prompt, 200) } : {}),
          ...(agentType ? { agentType } : {}),
        });
      }
      // Synthetic messages (errors, interruptions Claude Code writes itself) cost nothing.
      const messageId = str(message.id);
      if (isObj(message.usage) && messageId && model !== '<synthetic>') {
        const usage = claudeUsage(message.usage);
        const requestId = str(value.requestId) ?? '';
        events.push({
          ...base,
          type: 'response',
          key: `${messageId}:${requestId}`,
          model,
          usage,
          contextTokens: usage.input + usage.cacheRead + usage.cacheWrite5m + usage.cacheWrite1h,
          stopReason: str(message.stop_reason) ?? null,
          ...(requestId ? { requestId } : {}),
        });
      }
      return { events };
    }
    case 'system': {
      const subtype = str(value.subtype) ?? '';
      if (subtype === 'compact_boundary') {
        const m = isObj(value.compactMetadata) ? value.compactMetadata : {};
        const pre = num(m.preTokens);
        events.push({
          ...base,
          type: 'compaction',
          trigger: str(m.trigger) ?? 'auto',
          preTokens: pre > 0 ? pre : null,
        });
      } else if (subtype === 'turn_duration' || subtype === 'stop_hook_summary') {
        events.push({ ...base, type: 'turn_end' });
      } else if (value.level === 'error' || subtype === 'api_error') {
        const text = str(value.content) ?? str(value.error) ?? subtype;
        events.push({ ...base, type: 'error', message: clip(text, 300) });
      }
      return { events };
    }
    case 'summary': {
      const title = str(value.summary);
      return { events: title ? [{ ...base, type: 'meta', title: clip(title, 200) }] : [] };
    }
    default:
      if (IGNORED.has(type)) return { events };
      return { events, unknownType: type === '' ? '(none)' : type.slice(0, 40) };
  }
}

function warn(ctx: ClaudeFileContext, message: string): AgentEvent {
  return {
    agent: 'claude',
    sessionId: ctx.sessionId,
    agentId: ctx.agentId,
    at: ctx.now,
    source: 'transcript',
    type: 'warning',
    message,
  };
}

/**
 * Where a file under a Claude projects folder belongs, from its path relative
 * to `projects/`: `<project>/<sessionId>.jsonl` (main) or
 * `<project>/<sessionId>/subagents/agent-<id>.jsonl`; null for other files.
 */
export function claudeFileOf(
  relPath: string,
): { project: string; sessionId: string; agentId: string | null } | null {
  const segs = relPath.split('/');
  if (segs.length === 2 && segs[1]?.endsWith('.jsonl')) {
    return { project: segs[0] as string, sessionId: segs[1].slice(0, -6), agentId: null };
  }
  if (segs.length === 4 && segs[2] === 'subagents') {
    const m = /^agent-(.+)\.jsonl$/.exec(segs[3] as string);
    if (m)
      return { project: segs[0] as string, sessionId: segs[1] as string, agentId: m[1] as string };
  }
  return null;
}
