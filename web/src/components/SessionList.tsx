import { useMemo, useState } from 'react';
import type { AgentSummary } from '../../../src/shared/agents.ts';
import type { SessionState, SessionStatus } from '../../../src/shared/model.ts';
import { AgentRow } from '../agents/AgentRow.tsx';
import {
  agentMatchesQuery,
  agentMatchesState,
  machinesOf,
  mergeWork,
  projectsOf,
  WORK_KINDS,
  type WorkKind,
} from '../agents/merge.ts';
import { useNow } from '../lib/now.ts';
import { SessionRow } from './SessionRow.tsx';

type Filter = 'all' | SessionState;
const FILTERS: Filter[] = ['all', 'active', 'completed', 'failed'];

/** Live ones first, then the most recently changed. */
export function orderSessions(list: SessionStatus[]): SessionStatus[] {
  return [...list].sort((a, b) => {
    const live = Number(b.state === 'active') - Number(a.state === 'active');
    return live !== 0 ? live : b.changedAt - a.changedAt;
  });
}

function matches(s: SessionStatus, query: string): boolean {
  if (query === '') return true;
  const q = query.toLowerCase();
  return [
    s.id,
    s.currentPhase,
    s.status,
    s.progressDetail ?? '',
    s.projectDir ?? '',
    s.host ?? '',
  ].some((f) => f.toLowerCase().includes(q));
}

export function SessionList({
  sessions,
  agents = {},
}: {
  sessions: Record<string, SessionStatus>;
  /** Coding-agent sessions shown in the same list. */
  agents?: Record<string, AgentSummary>;
}) {
  const now = useNow();
  const [filter, setFilter] = useState<Filter>('all');
  const [query, setQuery] = useState('');
  const [kind, setKind] = useState<WorkKind>('all');
  const [project, setProject] = useState('');
  const [machine, setMachine] = useState('');
  const all = useMemo(() => orderSessions(Object.values(sessions)), [sessions]);
  const work = useMemo(() => mergeWork(all, Object.values(agents)), [all, agents]);
  const projects = useMemo(() => projectsOf(work), [work]);
  const machines = useMemo(() => machinesOf(work), [work]);
  const counts = useMemo(() => {
    const c: Record<Filter, number> = { all: all.length, active: 0, completed: 0, failed: 0 };
    for (const s of all) c[s.state]++;
    return c;
  }, [all]);
  const shown = work.filter(
    (w) =>
      (kind === 'all' || w.kind === kind) &&
      (project === '' || w.project === project) &&
      (machine === '' || w.machine === machine) &&
      (w.kind === 'build'
        ? (filter === 'all' || w.s.state === filter) && matches(w.s, query.trim())
        : agentMatchesState(w.a, filter) && agentMatchesQuery(w.a, query.trim())),
  );
  return (
    <section className="card" aria-labelledby="sessions-h">
      <div className="card-head">
        <h2 id="sessions-h">Sessions</h2>
        <fieldset className="filters" aria-label="Filter sessions by state">
          {FILTERS.map((f) => (
            <button
              key={f}
              type="button"
              className="chip"
              aria-pressed={filter === f}
              onClick={() => setFilter(f)}
            >
              {f} <span className="count">{counts[f]}</span>
            </button>
          ))}
        </fieldset>
        <select
          className="kind-filter"
          aria-label="Filter by kind"
          value={kind}
          onChange={(e) => setKind(e.target.value as WorkKind)}
        >
          {WORK_KINDS.map((k) => (
            <option key={k} value={k}>
              {k === 'all'
                ? 'all kinds'
                : k === 'build'
                  ? 'builds'
                  : k === 'claude'
                    ? 'Claude Code'
                    : 'Codex'}
            </option>
          ))}
        </select>
        <select
          className="project-filter"
          aria-label="Filter by project"
          value={project}
          onChange={(e) => setProject(e.target.value)}
        >
          <option value="">all projects</option>
          {projects.map((p) => (
            <option key={p} value={p}>
              {p}
            </option>
          ))}
        </select>
        <select
          className="machine-filter"
          aria-label="Filter by machine"
          value={machine}
          onChange={(e) => setMachine(e.target.value)}
        >
          <option value="">all machines</option>
          {machines.map((m) => (
            <option key={m} value={m}>
              {m}
            </option>
          ))}
        </select>
        <input
          className="search"
          type="search"
          placeholder="Search sessions"
          aria-label="Search sessions"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
        />
      </div>
      {shown.length === 0 ? (
        <p className="empty">
          {work.length === 0
            ? 'No sessions yet. They appear here as soon as an orchestrator writes .context-foundry/current-phase.json or POSTs /api/phase-update, or a Claude Code or Codex session runs.'
            : 'No session matches this filter.'}
        </p>
      ) : (
        <ul className="session-list">
          {shown.map((w) =>
            w.kind === 'build' ? (
              <SessionRow key={`b:${w.id}`} s={w.s} now={now} />
            ) : (
              <AgentRow key={`a:${w.id}`} a={w.a} now={now} />
            ),
          )}
        </ul>
      )}
    </section>
  );
}
