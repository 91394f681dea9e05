import { useEffect, useState } from 'react';
import type { SessionStatus } from '../../src/shared/model.ts';
import { AgentPage } from './agents/AgentPage.tsx';
import { ConnectionBadge } from './components/ConnectionBadge.tsx';
import { NotifyButton } from './components/NotifyButton.tsx';
import { useAlertNotifications } from './lib/attention.ts';
import { type FinishedDetail, useFinishWatcher } from './lib/finished.ts';
import { useConn, useLive } from './lib/live.tsx';
import { type Route, useRoute } from './lib/route.ts';
import { Overview } from './views/Overview.tsx';
import { PlanPage } from './views/PlanPage.tsx';
import { SessionPage } from './views/SessionPage.tsx';

const MARK = { active: '●', completed: '✓', failed: '✕' } as const;

function pageTitle(
  route: Route,
  sessions: Record<string, SessionStatus> | undefined,
  finished: FinishedDetail | null,
): string {
  if (route.view === 'session') {
    const s = sessions?.[route.id];
    if (!s) return `${route.id} · Livestream`;
    return `${MARK[s.state]} ${s.id} — ${s.state === 'active' ? s.currentPhase : s.state} · Livestream`;
  }
  if (route.view === 'plan') return `${route.id} (plan) · Livestream`;
  if (route.view === 'agent') return `${route.id} (agent) · Livestream`;
  const active = sessions ? Object.values(sessions).filter((s) => s.state === 'active').length : 0;
  const base = `Livestream (${active} active)`;
  return finished ? `${MARK[finished.state]} ${finished.id} ${finished.state} · ${base}` : base;
}

export function App() {
  const route = useRoute();
  const sessions = useLive('sessions');
  const conn = useConn();
  const [finished, setFinished] = useState<FinishedDetail | null>(null);
  useFinishWatcher(sessions?.sessions, setFinished);
  useAlertNotifications(useLive('attention')?.alerts);

  const routeKey =
    route.view === 'session' || route.view === 'plan' || route.view === 'agent'
      ? `${route.view}:${route.id}`
      : route.view;
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new page clears the last "finished" note
  useEffect(() => setFinished(null), [routeKey]);

  const title = pageTitle(route, sessions?.sessions, finished);
  useEffect(() => {
    document.title = title;
  }, [title]);

  return (
    <>
      <header className="topbar">
        <a href="#/" className="brand">
          Livestream
        </a>
        <div className="topbar-right">
          <NotifyButton />
          <ConnectionBadge conn={conn} />
        </div>
      </header>
      <main id="main">
        {route.view === 'overview' && <Overview />}
        {route.view === 'session' && <SessionPage key={route.id} id={route.id} at={route.at} />}
        {route.view === 'plan' && <PlanPage key={route.id} id={route.id} />}
        {route.view === 'agent' && <AgentPage key={route.id} id={route.id} />}
        {route.view === 'not_found' && (
          <section className="card">
            <h2>Nothing at “{route.hash}”</h2>
            <a href="#/">Back to the overview</a>
          </section>
        )}
      </main>
    </>
  );
}
