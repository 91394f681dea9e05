import { z } from 'zod';
import { AgentBook } from './book.ts';
import type { PriceTable } from './prices.ts';
import {
  type AgentNodeState,
  AgentSessionState,
  type SeenResponse,
  type ToolCallState,
} from './session.ts';

/** Bumped when the snapshot's shape changes: an older checkpoint is then read from scratch. */
export const SNAPSHOT_VERSION = 2;

/**
 * A book as plain JSON, for the checkpoint that lets a restart continue from
 * saved offsets instead of reading a month of transcripts again.
 */
export interface AgentBookSnapshot {
  version: number;
  sessions: SessionSnapshot[];
}

type NodeSnapshot = Omit<AgentNodeState, 'models'> & {
  models: [string, { usage: Usage; costUsd: number; responses: number; priced: boolean }][];
};
type Usage = {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite5m: number;
  cacheWrite1h: number;
};
interface SessionSnapshot {
  id: string;
  kind: 'claude' | 'codex';
  fields: Record<string, unknown>;
  nodes: NodeSnapshot[];
  tools: ToolCallState[];
  recent: [string, Omit<SeenResponse, 'node'> & { agentId: string | null }][];
  prompts: AgentSessionState['prompts'];
  events: AgentSessionState['events'];
  recentPrompts: AgentSessionState['recentPrompts'];
}

const FIELDS = [
  'cwd',
  'gitBranch',
  'title',
  'model',
  'state',
  'stateAt',
  'waitingFor',
  'startedAt',
  'lastAt',
  'contextTokens',
  'contextAt',
  'contextWindow',
  'compactions',
  'errors',
  'warnings',
  'unpricedResponses',
  'metricSeries',
  'metricPoints',
] as const;

export function toSnapshot(book: AgentBook): AgentBookSnapshot {
  return { version: SNAPSHOT_VERSION, sessions: [...book.sessions.values()].map(sessionSnapshot) };
}

/** The text a snapshot starts with; sessions follow, comma-separated, then `]}`. */
export const SNAPSHOT_HEAD = `{"version":${SNAPSHOT_VERSION},"sessions":[`;

/**
 * The snapshot as JSON text in pieces, one per session, the same text
 * `JSON.stringify(toSnapshot(book))` gives: written piece by piece, a month
 * of sessions never exists as one object tree and one string at once.
 */
export function* snapshotText(book: AgentBook): Generator<string> {
  yield SNAPSHOT_HEAD;
  let first = true;
  for (const s of book.sessions.values()) {
    yield (first ? '' : ',') + sessionJson(s);
    first = false;
  }
  yield ']}';
}

/**
 * One session of a snapshot as JSON. The same while `s.version` is: a
 * checkpoint can keep it for sessions that did not change.
 */
export function sessionJson(s: AgentSessionState): string {
  return JSON.stringify(sessionSnapshot(s));
}

function sessionSnapshot(s: AgentSessionState): SessionSnapshot {
  const fields: Record<string, unknown> = {};
  for (const f of FIELDS) fields[f] = s[f];
  return {
    id: s.id,
    kind: s.kind,
    fields,
    nodes: [...s.nodes.values()].map((n) => ({ ...n, models: [...n.models] })),
    tools: [...s.tools.values()],
    recent: [...s.recent].map(([k, { node, ...r }]) => [k, { ...r, agentId: node.agentId }]),
    prompts: s.prompts,
    events: s.events,
    recentPrompts: s.recentPrompts,
  };
}

const snapshotHead = z.object({
  version: z.literal(SNAPSHOT_VERSION),
  sessions: z.array(z.unknown()),
});

/**
 * The book a snapshot describes, or null when it is of another version or
 * not a snapshot at all (the caller then reads the transcripts from scratch).
 */
export function fromSnapshot(prices: PriceTable, value: unknown): AgentBook | null {
  const head = snapshotHead.safeParse(value);
  if (!head.success) return null;
  const book = new AgentBook(prices);
  try {
    for (const raw of head.data.sessions as SessionSnapshot[]) {
      const s = new AgentSessionState(raw.id, raw.kind, Number(raw.fields.startedAt));
      Object.assign(s, pick(raw.fields));
      // The parsed objects are used as they are: a month of sessions is not copied twice.
      for (const n of raw.nodes) s.nodes.set(n.agentId, { ...n, models: new Map(n.models) });
      for (const t of raw.tools) s.tools.set(t.id, t);
      for (const [key, { agentId, ...r }] of raw.recent) {
        const node = s.nodes.get(agentId);
        if (node) s.rememberResponse(key, { ...r, node, aliases: [...r.aliases] });
      }
      s.prompts.push(...raw.prompts);
      s.events.push(...raw.events);
      s.recentPrompts.push(...raw.recentPrompts);
      book.adopt(s);
    }
  } catch {
    return null;
  }
  return book;
}

function pick(fields: Record<string, unknown>): Partial<AgentSessionState> {
  const out: Record<string, unknown> = {};
  for (const f of FIELDS) if (f in fields) out[f] = fields[f];
  return out as Partial<AgentSessionState>;
}
