import { useMemo, useState } from 'react';
import type { SessionState, SessionStatus } from '../../../src/shared/model.ts';
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
  return [s.id, s.currentPhase, s.status, s.progressDetail ?? '', s.projectDir ?? ''].some((f) =>
    f.toLowerCase().includes(q),
  );
}

export function SessionList({ sessions }: { sessions: Record<string, SessionStatus> }) {
  const now = useNow();
  const [filter, setFilter] = useState<Filter>('all');
  const [query, setQuery] = useState('');
  const all = useMemo(() => orderSessions(Object.values(sessions)), [sessions]);
  const counts = useMemo(() => {
    const c: Record<Filter, number> = { all: all.length, active: 0, completed: 0, failed: 0 };
    for (const s of all) c[s.state]++;
    return c;
  }, [all]);
  const shown = all.filter(
    (s) => (filter === 'all' || s.state === filter) && matches(s, query.trim()),
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
          {all.length === 0
            ? 'No sessions yet. They appear here as soon as an orchestrator writes .context-foundry/current-phase.json or POSTs /api/phase-update.'
            : 'No session matches this filter.'}
        </p>
      ) : (
        <ul className="session-list">
          {shown.map((s) => (
            <SessionRow key={s.id} s={s} now={now} />
          ))}
        </ul>
      )}
    </section>
  );
}
