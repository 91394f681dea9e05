import type { AgentDetail, AgentSummary } from './agents.ts';
import type { AttentionData } from './attention.ts';
import type { Analytics, SessionMetrics } from './metrics.ts';
import type { LogLine, SessionDetail, SessionStatus } from './model.ts';
import type { PlanDetail, PlanSummary } from './plans.ts';

/**
 * Topics of the real-time protocol. A topic is a string: a kind, and for
 * per-item kinds `:` and the item's id (ids may themselves contain `:`).
 */
export type TopicKind =
  | 'sessions'
  | 'session'
  | 'logs'
  | 'metrics'
  | 'plans'
  | 'plan'
  | 'analytics'
  | 'attention'
  | 'agents'
  | 'agent';

/** The data each topic kind carries. Collections are keyed by id so merge patches stay small. */
export interface TopicData {
  /**
   * Each session's status without its extras (`session:<id>` has them). Past
   * the list's size budget finished sessions are summarised, then left out
   * (`omitted` counts them; `GET /api/sessions` lists every one).
   */
  sessions: { sessions: Record<string, SessionStatus>; omitted?: number };
  session: SessionDetail;
  /** Append-only: deltas carry new lines; the snapshot holds the last `cap`. */
  logs: { lines: LogLine[] };
  metrics: SessionMetrics;
  plans: { plans: Record<string, PlanSummary> };
  plan: PlanDetail;
  analytics: Analytics;
  /** The open alerts (see `src/shared/attention.ts`). */
  attention: AttentionData;
  /** Coding-agent sessions (Claude Code, Codex), keyed by session id. */
  agents: { agents: Record<string, AgentSummary> };
  agent: AgentDetail;
}

const PER_ITEM: ReadonlySet<TopicKind> = new Set(['session', 'logs', 'metrics', 'plan', 'agent']);
const COLLECTIONS: ReadonlySet<TopicKind> = new Set([
  'sessions',
  'plans',
  'analytics',
  'attention',
  'agents',
]);

/** Builds a topic name: `topic('session', 'weather-app')` → `session:weather-app`. */
export function topic(kind: TopicKind, id?: string): string {
  return id === undefined ? kind : `${kind}:${id}`;
}

/** Parses a topic name; null when it is not a valid topic. */
export function parseTopic(name: string): { kind: TopicKind; id: string | null } | null {
  const colon = name.indexOf(':');
  const kind = (colon < 0 ? name : name.slice(0, colon)) as TopicKind;
  if (colon < 0) return COLLECTIONS.has(kind) ? { kind, id: null } : null;
  const id = name.slice(colon + 1);
  if (!PER_ITEM.has(kind) || id.length === 0 || id.length > 512) return null;
  return { kind, id };
}
