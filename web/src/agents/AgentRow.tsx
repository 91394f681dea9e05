import { memo } from 'react';
import type { AgentSummary } from '../../../src/shared/agents.ts';
import { formatAgo } from '../lib/time.ts';
import { agentHref, formatUsd, stateText, tokensOf, usageTitle } from './format.ts';

const TONE = {
  working: 'active',
  waiting: 'stale',
  idle: 'completed',
  ended: 'completed',
} as const;

/** One coding-agent session in the overview list, beside the builds. */
export const AgentRow = memo(function AgentRow({ a, now }: { a: AgentSummary; now: number }) {
  return (
    <li className={`session-row agent-row state-${a.state}`} data-agent={a.id} data-kind={a.kind}>
      <div className="row-head">
        <a className="session-name" href={agentHref(a.id)}>
          {a.title ?? a.id}
        </a>
        <span className="badges">
          <span className="badge kind">{a.kind === 'claude' ? 'Claude Code' : 'Codex'}</span>
          <span className={`badge agent-state state-${TONE[a.state]}`}>{stateText(a)}</span>
        </span>
      </div>
      <div className="row-phase">
        <span className="project">{a.project || 'unknown project'}</span>
        {a.gitBranch && <span className="muted"> · {a.gitBranch}</span>}
        {a.model && <span className="muted"> · {a.model}</span>}
      </div>
      {a.waitingFor && <div className="warn waiting-for">{a.waitingFor.message}</div>}
      <div className="row-foot muted">
        <span className="detail">
          <span className="agent-tokens" title={usageTitle(a.usage)}>
            {tokensOf(a)} tokens
          </span>{' '}
          · <span className="agent-cost">{formatUsd(a.costUsd)}</span>
          {a.unpricedResponses > 0 && ' (some unpriced)'} · {a.toolCalls} tools
          {a.subagents > 0 && ` · ${a.subagents} subagents`}
        </span>
        <span className="ago" title={new Date(a.lastAt).toISOString()}>
          active {formatAgo(a.lastAt, now)}
        </span>
      </div>
    </li>
  );
});
