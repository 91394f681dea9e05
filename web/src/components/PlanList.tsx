import type { PlanStatus, PlanSummary } from '../../../src/shared/plans.ts';
import { useNow } from '../lib/now.ts';
import { planHref } from '../lib/route.ts';
import { formatAgo } from '../lib/time.ts';
import { ProgressBar } from './ProgressBar.tsx';

export const PLAN_STATUS_TEXT: Record<PlanStatus, string> = {
  needs_attention: 'needs attention',
  in_progress: 'in progress',
  ready: 'ready',
  complete: 'complete',
  not_started: 'not started',
};

function percent(p: PlanSummary): number | null {
  return p.progress.total === 0 ? null : (p.progress.done / p.progress.total) * 100;
}

/** Plans needing attention first, then by most recent change. */
export function PlanList({ plans }: { plans: Record<string, PlanSummary> }) {
  const now = useNow();
  const list = Object.values(plans).sort(
    (a, b) => Number(b.needsAttention) - Number(a.needsAttention) || b.changedAt - a.changedAt,
  );
  return (
    <section className="card" aria-labelledby="plans-h">
      <div className="card-head">
        <h2 id="plans-h">Plans</h2>
      </div>
      {list.length === 0 ? (
        <p className="empty">No plans found under work-space/plans/.</p>
      ) : (
        <ul className="plan-list">
          {list.map((p) => (
            <li key={p.id} className="plan-row" data-plan={p.id}>
              <div className="row-head">
                <a className="session-name" href={planHref(p.id)}>
                  {p.name}
                </a>
                {p.group && (
                  <span className="plan-group muted" data-group={p.group}>
                    {p.group
                      .split('/')
                      .at(-1)
                      ?.replace(/^[a-z]_/, '')
                      .replace(/[-_]+/g, ' ')}
                  </span>
                )}
                <span className={`badge plan-${p.status}`}>
                  {p.needsAttention && <span aria-hidden="true">⚠ </span>}
                  {PLAN_STATUS_TEXT[p.status]}
                </span>
              </div>
              <ProgressBar
                percent={percent(p)}
                label={`${p.name} progress`}
                tone={
                  p.needsAttention ? 'attention' : p.status === 'complete' ? 'completed' : 'active'
                }
              />
              <div className="row-foot muted">
                <span>
                  {p.progress.done}/{p.progress.total} approved
                  {p.next.length > 0 && ` · next: ${p.next.join(', ')}`}
                </span>
                <span className="ago">changed {formatAgo(p.changedAt, now)}</span>
              </div>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
