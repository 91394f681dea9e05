import { z } from 'zod';
import type { AgentNode } from '../../shared/metrics.ts';
import { summariseExtras } from '../session/extras.ts';

/** What an agent's `metadata` keeps (no view shows it; the history keeps what it was sent). */
export const AGENT_METADATA_LIMITS = { fields: 16, chars: 2048 };

/** Agents a session's metrics show at most: the most recently updated. */
export const MAX_AGENTS_SHOWN = 500;

/** Statuses that end an agent's run. */
const FINAL = new Set(['completed', 'complete', 'done', 'failed', 'error', 'cancelled']);

const id = z.string().trim().min(1).max(256);
const figure = z.coerce.number().refine(Number.isFinite, 'must be a finite number').nullish();
const text = z.string().max(4096).nullish();

/** `POST /api/agent-update` (formats.md §4): ids required, everything else optional. */
export const agentUpdateSchema = z.looseObject({
  session_id: id,
  agent_id: id,
  agent_type: z.string().max(256).nullish(),
  status: z.string().trim().min(1).max(64).nullish(),
  phase: z.string().max(256).nullish(),
  progress_percent: figure,
  tokens_used: figure,
  tokens_limit: figure,
  token_percentage: figure,
  error_message: text,
  parent_agent_id: z.string().max(256).nullish(),
  metadata: z.record(z.string(), z.unknown()).nullish(),
});

export type AgentUpdate = z.infer<typeof agentUpdateSchema>;

export type AgentUpdateResult =
  | { ok: true; update: AgentUpdate }
  | { ok: false; error: string; message: string };

/** Validates a body; the message names the offending fields. */
export function parseAgentUpdate(body: unknown): AgentUpdateResult {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return {
      ok: false,
      error: 'bad_request',
      message: 'The body must be a JSON object with session_id and agent_id.',
    };
  }
  const parsed = agentUpdateSchema.safeParse(body);
  if (parsed.success) return { ok: true, update: parsed.data };
  const detail = parsed.error.issues
    .map((issue) => {
      const field = issue.path.join('.') || 'body';
      const value = (body as Record<string, unknown>)[String(issue.path[0])];
      return value === undefined ? `${field} is required` : `${field}: ${issue.message}`;
    })
    .join('; ');
  return { ok: false, error: 'bad_request', message: `Invalid agent update: ${detail}.` };
}

/** True for statuses that close an agent's run. */
export function isFinalStatus(status: string): boolean {
  return FINAL.has(status.toLowerCase());
}

/**
 * The agent after an update. `startedAt` is first sight; `endedAt` and
 * `durationMs` are set when the status becomes final, and cleared if a
 * finished agent reports a running status again.
 */
export function applyAgentUpdate(prev: AgentNode | null, u: AgentUpdate, at: number): AgentNode {
  const startedAt = prev?.startedAt ?? at;
  const status = u.status ?? prev?.status ?? 'unknown';
  const final = isFinalStatus(status);
  const endedAt = final ? (prev?.endedAt ?? at) : null;
  const pick = <T>(value: T | null | undefined, old: T | null | undefined): T | null =>
    value ?? old ?? null;
  return {
    agentId: u.agent_id,
    parentAgentId: pick(u.parent_agent_id, prev?.parentAgentId),
    agentType: pick(u.agent_type, prev?.agentType),
    status,
    phase: pick(u.phase, prev?.phase),
    progressPercent: pick(u.progress_percent, prev?.progressPercent),
    tokensUsed: pick(u.tokens_used, prev?.tokensUsed),
    tokensLimit: pick(u.tokens_limit, prev?.tokensLimit),
    errorMessage: pick(u.error_message, prev?.errorMessage),
    startedAt,
    endedAt,
    durationMs: endedAt === null ? null : Math.max(0, endedAt - startedAt),
    updatedAt: at,
    // Bounded like a session's extras, tighter: the tree of every agent goes to each viewer.
    metadata: summariseExtras(
      { ...(prev?.metadata ?? {}), ...(u.metadata ?? {}) },
      AGENT_METADATA_LIMITS,
    ).extras,
  };
}

/**
 * Agents ordered as a tree walk: roots by start time, each followed by its
 * children. Past `MAX_AGENTS_SHOWN`, only the most recently updated are in it.
 */
export function agentTree(agents: Iterable<AgentNode>): AgentNode[] {
  let shown = [...agents];
  if (shown.length > MAX_AGENTS_SHOWN) {
    shown = shown.sort((a, b) => b.updatedAt - a.updatedAt).slice(0, MAX_AGENTS_SHOWN);
  }
  const all = shown.sort((a, b) => a.startedAt - b.startedAt || a.agentId.localeCompare(b.agentId));
  const ids = new Set(all.map((a) => a.agentId));
  const children = new Map<string | null, AgentNode[]>();
  for (const a of all) {
    const parent = a.parentAgentId !== null && ids.has(a.parentAgentId) ? a.parentAgentId : null;
    const list = children.get(parent) ?? [];
    list.push(a);
    children.set(parent, list);
  }
  const out: AgentNode[] = [];
  const visited = new Set<string>();
  const walk = (parent: string | null) => {
    for (const a of children.get(parent) ?? []) {
      if (visited.has(a.agentId)) continue;
      visited.add(a.agentId);
      out.push(a);
      walk(a.agentId);
    }
  };
  walk(null);
  // Agents in a parent cycle have no root; keep them rather than lose them.
  for (const a of all) if (!visited.has(a.agentId)) out.push(a);
  return out;
}
