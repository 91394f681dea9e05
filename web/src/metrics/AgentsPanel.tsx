import type { AgentNode } from '../../../src/shared/metrics.ts';
import { useNow } from '../lib/now.ts';
import { formatDuration, formatNumber } from '../lib/time.ts';

interface Row {
  agent: AgentNode;
  depth: number;
}

/** Depth-first order of the agent tree; agents whose parent is unknown are roots. */
export function flattenAgents(agents: AgentNode[]): Row[] {
  const ids = new Set(agents.map((a) => a.agentId));
  const children = new Map<string | null, AgentNode[]>();
  for (const a of agents) {
    const parent = a.parentAgentId !== null && ids.has(a.parentAgentId) ? a.parentAgentId : null;
    const list = children.get(parent) ?? [];
    list.push(a);
    children.set(parent, list);
  }
  const out: Row[] = [];
  const visited = new Set<string>();
  const walk = (parent: string | null, depth: number) => {
    for (const a of (children.get(parent) ?? []).sort((x, y) => x.startedAt - y.startedAt)) {
      if (visited.has(a.agentId)) continue;
      visited.add(a.agentId);
      out.push({ agent: a, depth });
      walk(a.agentId, depth + 1);
    }
  };
  walk(null, 0);
  // Cycles in parent links leave agents unreached: show them flat rather than lose them.
  for (const a of agents) if (!visited.has(a.agentId)) out.push({ agent: a, depth: 0 });
  return out;
}

/** Agents as a tree table with status, duration (live for running ones), tokens and progress. */
export function AgentsView({ agents }: { agents: AgentNode[] }) {
  const now = useNow();
  if (agents.length === 0) return <p className="empty">No agents reported.</p>;
  return (
    <div className="table-wrap">
      <table className="data agents">
        <thead>
          <tr>
            <th scope="col">Agent</th>
            <th scope="col">Status</th>
            <th scope="col">Phase</th>
            <th scope="col" className="num">
              Duration
            </th>
            <th scope="col" className="num">
              Tokens
            </th>
            <th scope="col" className="num">
              Progress
            </th>
          </tr>
        </thead>
        <tbody>
          {flattenAgents(agents).map(({ agent: a, depth }) => (
            <tr key={a.agentId} className={`agent-${a.status}`}>
              <th scope="row" style={{ paddingLeft: `${0.5 + depth * 1.2}rem` }}>
                {depth > 0 && <span aria-hidden="true">└ </span>}
                {a.agentId}
                {a.agentType !== null && <span className="muted"> ({a.agentType})</span>}
                {a.errorMessage !== null && <div className="fail-text small">{a.errorMessage}</div>}
              </th>
              <td>{a.status}</td>
              <td>{a.phase ?? '—'}</td>
              <td className="num">
                {formatDuration(a.durationMs ?? (a.endedAt === null ? now - a.startedAt : null))}
              </td>
              <td className="num">
                {formatNumber(a.tokensUsed)}
                {a.tokensLimit !== null && (
                  <span className="muted"> / {formatNumber(a.tokensLimit)}</span>
                )}
              </td>
              <td className="num">
                {a.progressPercent === null ? '—' : `${Math.round(a.progressPercent)} %`}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
