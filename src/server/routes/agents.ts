import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AgentEvent } from '../../core/agents/events.ts';
import { hookEvents, hookPayloadSchema } from '../../core/agents/hooks.ts';
import type { AgentDetail, AgentSummary, AgentTotals } from '../../shared/agents.ts';
import type { Telemetry } from '../../telemetry.ts';
import { sendError } from '../errors.ts';
import { badRequest, sessionIdParams } from '../params.ts';

/** What the agent routes need: queries over the agents engine, and where hook events go. */
export interface AgentQueries {
  list(): AgentSummary[];
  get(id: string): AgentDetail | null;
  totals(): AgentTotals;
  apply(event: AgentEvent, file: string | null): void;
}

const listQuery = z.object({
  kind: z.enum(['claude', 'codex']).optional(),
  project: z.string().max(512).optional(),
  state: z.enum(['working', 'waiting', 'idle', 'ended']).optional(),
});

/** `GET /api/agents`, `GET /api/agents/:id` and the agents' Prometheus figures. */
export async function agentRoutes(
  app: FastifyInstance,
  opts: { agents: AgentQueries; telemetry: Telemetry },
): Promise<void> {
  const { agents, telemetry } = opts;

  app.get('/api/agents', async (request, reply) => {
    const q = listQuery.safeParse(request.query);
    if (!q.success) return badRequest(reply, 'query', q.error);
    const list = agents
      .list()
      .filter(
        (a) =>
          (!q.data.kind || a.kind === q.data.kind) &&
          (!q.data.project || a.project === q.data.project) &&
          (!q.data.state || a.state === q.data.state),
      );
    const costUsd = list.reduce((sum, a) => sum + a.costUsd, 0);
    return { agents: list, count: list.length, costUsd: Math.round(costUsd * 1e6) / 1e6 };
  });

  app.get('/api/agents/:id', async (request, reply) => {
    const params = sessionIdParams.safeParse(request.params);
    if (!params.success) return badRequest(reply, 'session id', params.error);
    const found = agents.get(params.data.id);
    if (!found) {
      return sendError(
        reply,
        404,
        'not_found',
        `No agent session '${params.data.id}'. GET /api/agents lists them.`,
      );
    }
    return found;
  });

  const hooks = telemetry.counter(
    'livestream_hooks_received_total',
    'Claude Code hook payloads received (rejected: missing fields; ignored: unknown event)',
    ['result'],
  );
  // Claude Code waits for the answer: it is sent as soon as the payload is applied
  // (in memory; publishing happens on the next tick), and says nothing the agent acts on.
  app.post('/api/hooks', async (request, reply) => {
    const parsed = hookPayloadSchema.safeParse(request.body);
    if (!parsed.success) {
      hooks.inc({ result: 'rejected' });
      request.log.warn(
        { issues: parsed.error.issues.map((i) => i.path.join('.') || i.message) },
        'hook payload rejected',
      );
      return badRequest(reply, 'hook payload', parsed.error);
    }
    const { events, known } = hookEvents(parsed.data, Date.now());
    for (const e of events) agents.apply(e, null);
    hooks.inc({ result: known ? 'applied' : 'ignored' });
    return {};
  });

  telemetry.gauge(
    'livestream_agent_sessions',
    'Coding-agent sessions by state',
    () =>
      Object.entries(agents.totals().byState).map(([state, value]) => ({
        labels: { state },
        value,
      })),
    ['state'],
  );
  telemetry.gauge('livestream_agent_cost_usd', 'Cost in USD of every coding-agent session', () => [
    { value: agents.totals().costUsd },
  ]);
  telemetry.gauge(
    'livestream_agent_tokens',
    'Tokens of every coding-agent session by kind',
    () =>
      Object.entries(agents.totals().tokens).map(([kind, value]) => ({ labels: { kind }, value })),
    ['kind'],
  );
  telemetry.gauge(
    'livestream_agent_tool_calls',
    'Tool calls of coding-agent sessions',
    () => {
      const t = agents.totals();
      return [
        { labels: { outcome: 'all' }, value: t.toolCalls },
        { labels: { outcome: 'error' }, value: t.toolErrors },
      ];
    },
    ['outcome'],
  );
  telemetry.gauge(
    'livestream_agent_phase_cost_usd',
    'Cost in USD of coding-agent sessions by phase (the Context Foundry phase inside a build, else the context window)',
    () =>
      Object.entries(agents.totals().byPhase).map(([phase, p]) => ({
        labels: { phase },
        value: Math.round(p.costUsd * 1e6) / 1e6,
      })),
    ['phase'],
  );
  telemetry.gauge(
    'livestream_agent_phase_tokens',
    'Tokens of coding-agent sessions by phase',
    () =>
      Object.entries(agents.totals().byPhase).map(([phase, p]) => ({
        labels: { phase },
        value: p.tokens,
      })),
    ['phase'],
  );
}
