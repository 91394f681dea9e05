import { z } from 'zod';
import { type AgentEvent, type AgentEventBase, clip, summarizeInput } from './events.ts';

/**
 * The fields of a Claude Code hook payload this model reads. Every hook sends
 * `session_id`, `transcript_path`, `cwd` and `hook_event_name`; the rest
 * depends on the event. Unknown fields pass (newer versions add some).
 */
export const hookPayloadSchema = z.looseObject({
  session_id: z.string().min(1).max(512),
  hook_event_name: z.string().min(1).max(100),
  transcript_path: z.string().optional(),
  cwd: z.string().optional(),
  agent_id: z.string().max(512).optional(),
  agent_type: z.string().max(200).optional(),
  prompt: z.string().optional(),
  tool_name: z.string().max(200).optional(),
  tool_input: z.unknown().optional(),
  tool_use_id: z.string().max(512).optional(),
  error: z.unknown().optional(),
  message: z.string().optional(),
  notification_type: z.string().optional(),
  model: z.unknown().optional(),
  reason: z.string().optional(),
});

export type HookPayload = z.infer<typeof hookPayloadSchema>;

/** The hook events `hooks install` subscribes to (those this model uses). */
export const HOOK_EVENTS = [
  'SessionStart',
  'UserPromptSubmit',
  'PreToolUse',
  'PostToolUse',
  'PostToolUseFailure',
  'PermissionRequest',
  'Notification',
  'Stop',
  'SubagentStart',
  'SubagentStop',
  'SessionEnd',
] as const;

/** Events whose settings entry takes a tool matcher. */
export const TOOL_HOOK_EVENTS: ReadonlySet<string> = new Set([
  'PreToolUse',
  'PostToolUse',
  'PostToolUseFailure',
  'PermissionRequest',
]);

function waitingOf(p: HookPayload): 'permission' | 'question' | 'input' | null {
  switch (p.notification_type) {
    case 'permission_prompt':
      return 'permission';
    case 'elicitation_dialog':
      return 'question';
    case 'idle_prompt':
      return 'input';
  }
  const m = p.message ?? '';
  if (/permission/i.test(m)) return 'permission';
  if (/waiting for your input/i.test(m)) return 'input';
  return null;
}

/**
 * A hook payload → agent events. Hooks are fast, not complete: a tool call
 * without its `tool_use_id` cannot be joined to the transcript's, so it only
 * moves the state (counting it would count it twice); tokens and compactions
 * come from the transcript alone.
 */
export function hookEvents(p: HookPayload, now: number): { events: AgentEvent[]; known: boolean } {
  const base: AgentEventBase = {
    agent: 'claude',
    sessionId: p.session_id,
    agentId: p.agent_id ?? null,
    at: now,
    source: 'hook',
  };
  const events: AgentEvent[] = [];
  const tool = p.tool_name ?? 'tool';
  switch (p.hook_event_name) {
    case 'SessionStart': {
      const model = typeof p.model === 'string' ? p.model : undefined;
      events.push({
        ...base,
        type: 'meta',
        ...(p.cwd ? { cwd: p.cwd } : {}),
        ...(model ? { model } : {}),
      });
      break;
    }
    case 'UserPromptSubmit':
      if (p.cwd) events.push({ ...base, type: 'meta', cwd: p.cwd });
      if (p.prompt) events.push({ ...base, type: 'prompt', text: clip(p.prompt, 500) });
      break;
    case 'PreToolUse':
      if (p.tool_use_id) {
        const input = p.tool_input;
        const o =
          typeof input === 'object' && input !== null ? (input as Record<string, unknown>) : {};
        events.push({
          ...base,
          type: 'tool_start',
          toolUseId: p.tool_use_id,
          name: tool,
          summary: summarizeInput(tool, input),
          ...(typeof o.prompt === 'string' ? { prompt: clip(o.prompt, 200) } : {}),
          ...(typeof o.subagent_type === 'string' ? { agentType: o.subagent_type } : {}),
        });
      }
      break;
    case 'PostToolUse':
    case 'PostToolUseFailure':
      if (p.tool_use_id) {
        events.push({
          ...base,
          type: 'tool_end',
          toolUseId: p.tool_use_id,
          isError: p.hook_event_name === 'PostToolUseFailure',
        });
      }
      if (p.hook_event_name === 'PostToolUseFailure' && typeof p.error === 'string') {
        events.push({ ...base, type: 'error', message: clip(`${tool}: ${p.error}`, 300) });
      }
      break;
    case 'PermissionRequest':
      events.push({
        ...base,
        type: 'waiting',
        reason: 'permission',
        message: clip(`${tool}: ${summarizeInput(tool, p.tool_input)}`, 300),
      });
      break;
    case 'Notification': {
      const reason = waitingOf(p);
      if (reason === 'input') events.push({ ...base, type: 'turn_end' });
      else if (reason)
        events.push({ ...base, type: 'waiting', reason, message: clip(p.message ?? reason, 300) });
      break;
    }
    case 'Stop':
      events.push({ ...base, type: 'turn_end' });
      break;
    case 'SubagentStart':
      events.push({
        ...base,
        type: 'subagent_start',
        agentType: p.agent_type ?? null,
        prompt: null,
      });
      break;
    case 'SubagentStop':
      events.push({ ...base, type: 'subagent_end' });
      break;
    case 'SessionEnd':
      events.push({ ...base, type: 'session_end' });
      break;
    case 'PreCompact':
      break;
    default:
      return { events, known: false };
  }
  return { events, known: true };
}
