import type {
  AgentDetail,
  AgentNode,
  AgentToolCall,
  TokenUsage,
} from '../../../src/shared/agents.ts';
import { ConnectionAware } from '../components/ConnectionAware.tsx';
import { ProgressBar } from '../components/ProgressBar.tsx';
import { useLive } from '../lib/live.tsx';
import { useNow } from '../lib/now.ts';
import { formatAgo, formatDuration } from '../lib/time.ts';
import { formatTokens, formatUsd, stateText, tokensOf, usageTitle } from './format.ts';

/** One coding-agent session: what it waits for, its cost, its subagents and its tool calls, live. */
export function AgentPage({ id }: { id: string }) {
  const detail = useLive('agent', id);
  const now = useNow();
  if (detail === undefined) return <p className="empty">Loading agent session {id}…</p>;
  if (detail === null)
    return (
      <section className="card">
        <h2>No agent session “{id}”</h2>
        <p>
          Livestream has not seen this Claude Code or Codex session.{' '}
          <a href="#/">Back to all sessions</a>
        </p>
      </section>
    );
  const s = detail.summary;
  const fill = s.contextWindow > 0 ? (100 * s.contextTokens) / s.contextWindow : null;
  return (
    <div className="agent-page" data-agent={s.id} data-state={s.state}>
      <header className="page-head">
        <div>
          <a href="#/" className="back">
            ← All sessions
          </a>
          <h1 className="session-title">{s.title ?? s.id}</h1>
          <span className="badges">
            <span className="badge kind">{s.kind === 'claude' ? 'Claude Code' : 'Codex'}</span>
            <span className="badge agent-state">{stateText(s)}</span>
          </span>
        </div>
        <div className="actions muted">active {formatAgo(s.lastAt, now)}</div>
      </header>
      <ConnectionAware />
      {s.waitingFor && (
        <section className="card attention waiting-card" aria-label="Waiting for you">
          <h2>
            Waiting for {s.waitingFor.reason === 'permission' ? 'your permission' : 'your answer'}
          </h2>
          <p className="waiting-message">{s.waitingFor.message}</p>
          <p className="muted">since {formatAgo(s.waitingFor.since, now)}</p>
        </section>
      )}
      <section className="card facts-card" aria-label="Session">
        <dl className="facts">
          <dt>Project</dt>
          <dd className="path">{s.project || '—'}</dd>
          <dt>Branch</dt>
          <dd>{s.gitBranch ?? '—'}</dd>
          <dt>Model</dt>
          <dd>{s.model ?? '—'}</dd>
          <dt>Tokens</dt>
          <dd className="agent-tokens" title={usageTitle(s.usage)}>
            {tokensOf(s)}
          </dd>
          <dt>Cost</dt>
          <dd className="agent-cost">
            {formatUsd(s.costUsd)}
            {s.unpricedResponses > 0 && ` (+${s.unpricedResponses} unpriced responses)`}
          </dd>
          <dt>Prompts · tools · errors</dt>
          <dd>
            {s.prompts} · {s.toolCalls} ({s.toolErrors} failed) · {s.errors}
          </dd>
          <dt>Compactions</dt>
          <dd>{s.compactions}</dd>
        </dl>
        <div className="context-fill">
          <span className="muted">
            Context {formatTokens(s.contextTokens)} / {formatTokens(s.contextWindow)}
          </span>
          <ProgressBar
            percent={fill}
            label="context window"
            tone={fill !== null && fill > 80 ? 'attention' : 'active'}
          />
        </div>
      </section>
      <div className="two-col">
        <AgentTree detail={detail} />
        <CostTable
          id="agent-models-h"
          title="Cost by model"
          column="Model"
          attr="data-model"
          rows={detail.models.map((m) => ({ ...m, key: m.model }))}
        />
      </div>
      {s.phases.length > 0 && (
        // Cost by phase: the build's phases inside a Context Foundry build, else the context windows.
        <CostTable
          id="agent-phases-h"
          title="Cost by phase"
          column="Phase"
          attr="data-phase"
          rows={s.phases.map((p) => ({ ...p, key: p.phase, priced: true }))}
        />
      )}
      <ToolTimeline tools={detail.tools} now={now} />
      {detail.events.length > 0 && (
        <section className="card" aria-labelledby="agent-events-h">
          <h2 id="agent-events-h">Errors and compactions</h2>
          <ul className="agent-events">
            {detail.events.map((e) => (
              <li key={`${e.at}-${e.text}`} className={e.kind === 'error' ? 'fail-text' : 'muted'}>
                {new Date(e.at).toLocaleTimeString()} {e.kind}: {e.text}
              </li>
            ))}
          </ul>
        </section>
      )}
      {detail.prompts.length > 0 && (
        <section className="card" aria-labelledby="agent-prompts-h">
          <h2 id="agent-prompts-h">Last prompts</h2>
          <ol className="agent-prompts">
            {detail.prompts.map((p) => (
              <li key={`${p.at}-${p.text}`}>
                <span className="muted">{new Date(p.at).toLocaleTimeString()}</span> {p.text}
              </li>
            ))}
          </ol>
        </section>
      )}
    </div>
  );
}

function AgentTree({ detail }: { detail: AgentDetail }) {
  const children = (parent: string | null) =>
    detail.agents.filter((a) => a.agentId !== null && a.parentId === parent);
  const item = (a: AgentNode) => (
    <li key={a.agentId ?? 'main'} data-agent-node={a.agentId ?? 'main'}>
      <span className="node-name">
        {a.agentId === null ? 'main agent' : (a.type ?? 'subagent')}
      </span>
      {a.description && <span className="muted"> — {a.description}</span>}
      <span className="node-cost">
        {' '}
        {formatUsd(a.costUsd)} · {tokensOf(a)} tokens · {a.toolCalls} tools
      </span>
      {a.agentId === null || children(a.agentId).length > 0 ? (
        <ul>{children(a.agentId).map(item)}</ul>
      ) : null}
    </li>
  );
  const main = detail.agents.find((a) => a.agentId === null);
  // Subagents whose parent is not known yet hang under the main agent.
  const orphans = detail.agents.filter(
    (a) =>
      a.agentId !== null &&
      a.parentId !== null &&
      !detail.agents.some((p) => p.agentId === a.parentId),
  );
  return (
    <section className="card" aria-labelledby="agent-tree-h">
      <h2 id="agent-tree-h">Agents</h2>
      <ul className="agent-tree">
        {main ? item(main) : children(null).map(item)}
        {orphans.map(item)}
      </ul>
    </section>
  );
}

/** One row of a cost table: responses, tokens and cost of a model or a phase. */
interface CostRow {
  key: string;
  responses: number;
  usage: TokenUsage;
  costUsd: number;
  /** False when the model is not in the price table: its tokens are counted, not priced. */
  priced: boolean;
}

/** Cost by model or by phase; `attr` names the row's data attribute (`data-model`, `data-phase`). */
function CostTable({
  id,
  title,
  column,
  attr,
  rows,
}: {
  id: string;
  title: string;
  column: string;
  attr: 'data-model' | 'data-phase';
  rows: CostRow[];
}) {
  return (
    <section className="card" aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      <table className="data compact">
        <thead>
          <tr>
            <th>{column}</th>
            <th className="num">Responses</th>
            <th className="num">Tokens</th>
            <th className="num">Cost</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.key} {...{ [attr]: r.key }}>
              <td>{r.key}</td>
              <td className="num">{r.responses}</td>
              <td className="num" title={usageTitle(r.usage)}>
                {tokensOf(r)}
              </td>
              <td className="num">{r.priced ? formatUsd(r.costUsd) : 'not priced'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function ToolTimeline({ tools, now }: { tools: AgentToolCall[]; now: number }) {
  return (
    <section className="card" aria-labelledby="agent-tools-h">
      <h2 id="agent-tools-h">Tool calls</h2>
      {tools.length === 0 ? (
        <p className="empty">No tool calls yet.</p>
      ) : (
        <div className="table-wrap">
          <table className="data compact tool-timeline">
            <thead>
              <tr>
                <th>Started</th>
                <th>Tool</th>
                <th>Input</th>
                <th>Agent</th>
                <th className="num">Duration</th>
                <th>Outcome</th>
              </tr>
            </thead>
            <tbody>
              {tools.map((t) => (
                <tr key={t.id} data-tool={t.id} data-outcome={t.outcome}>
                  <td className="muted">{new Date(t.startedAt).toLocaleTimeString()}</td>
                  <td>{t.name}</td>
                  <td className="path">{t.summary}</td>
                  <td className="muted">{t.agentId ?? 'main'}</td>
                  <td className="num">
                    {t.durationMs !== null && t.durationMs < 1000
                      ? `${t.durationMs} ms`
                      : formatDuration(t.durationMs ?? Math.max(0, now - t.startedAt))}
                  </td>
                  <td
                    className={
                      t.outcome === 'error' ? 'fail-text' : t.outcome === 'ok' ? 'pass-text' : ''
                    }
                  >
                    {t.outcome}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
