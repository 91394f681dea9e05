import { describeSavings, describeWorkLeft } from '../../../src/shared/plans.ts';
import { ConnectionAware } from '../components/ConnectionAware.tsx';
import { InlineMarkdown } from '../components/InlineMarkdown.tsx';
import { PLAN_STATUS_TEXT } from '../components/PlanList.tsx';
import { ProgressBar } from '../components/ProgressBar.tsx';
import { Updated } from '../components/Updated.tsx';
import { useLiveEntry } from '../lib/live.tsx';
import { AchievementsTable } from './AchievementsTable.tsx';

/** One plan: progress, what needs fixing, and every achievement with its next action. */
export function PlanPage({ id }: { id: string }) {
  const entry = useLiveEntry('plan', id);
  const plan = entry?.data;
  const at = entry?.receivedAt ?? null;
  if (plan === undefined) return <p className="empty">Loading plan {id}…</p>;
  if (plan === null)
    return (
      <section className="card">
        <h2>No plan “{id}”</h2>
        <p>
          No folder work-space/plans/{id}/ is known. <a href="#/">Back to the overview</a>
        </p>
      </section>
    );
  const fixes = plan.achievements.filter((a) => a.fixOpen);
  const work = describeWorkLeft(plan.health);
  const saved = describeSavings(plan.savings);
  const pct = plan.progress.total === 0 ? null : (plan.progress.done / plan.progress.total) * 100;
  return (
    <div className="plan-page" data-plan={plan.id}>
      <header className="page-head">
        <div>
          <a href="#/" className="back">
            ← Overview
          </a>
          <h1>{plan.name}</h1>
          <span className={`badge plan-${plan.status}`}>{PLAN_STATUS_TEXT[plan.status]}</span>{' '}
          <span className={`badge health-${plan.health.level}`}>
            health: {plan.health.level} · {plan.health.score}/100
          </span>
        </div>
        <div className="actions">
          <Updated at={at} />
        </div>
      </header>
      <ConnectionAware />
      <section className="card" aria-labelledby="plan-progress-h">
        <h2 id="plan-progress-h">Progress</h2>
        <p>
          <strong>
            {plan.progress.done}/{plan.progress.total}
          </strong>{' '}
          achievements approved
          {plan.last !== null && <span className="muted"> · last: {plan.last}</span>}
          {plan.next.length > 0 && <span className="muted"> · next: {plan.next.join(', ')}</span>}
        </p>
        <ProgressBar
          percent={pct}
          label="Plan progress"
          tone={
            plan.needsAttention ? 'attention' : plan.status === 'complete' ? 'completed' : 'active'
          }
        />
        <p className="muted small">
          {plan.stats.subplansCreated} subplans ({plan.stats.subplansWaiting} waiting) ·{' '}
          {plan.stats.executionsComplete} executions done, {plan.stats.executionsActive} active ·{' '}
          {plan.stats.approvals} approvals · {plan.stats.fixes} fixes ({plan.stats.fixesOpen} open)
        </p>
        {(work || saved) && (
          <p className="small" data-testid="plan-work">
            {[work, saved].filter(Boolean).join(' · ')}
          </p>
        )}
        {plan.health.reasons.length > 0 && (
          <ul className="warnings">
            {plan.health.reasons.map((r) => (
              <li key={r}>{r}</li>
            ))}
          </ul>
        )}
      </section>
      <section className="card attention" aria-labelledby="fix-h">
        <h2 id="fix-h">Needs fixing</h2>
        {fixes.length === 0 ? (
          <p className="empty">No open fix requests.</p>
        ) : (
          <ul className="fix-list">
            {fixes.map((a) => (
              <li key={a.id}>
                <strong>{a.id}</strong>{' '}
                {a.title !== null ? <InlineMarkdown text={a.title} /> : '(not in the index)'} —{' '}
                {a.nextAction ?? `address ${a.fixes.at(-1) ?? 'the FIX file'}`}
              </li>
            ))}
          </ul>
        )}
      </section>
      <section className="card" aria-labelledby="ach-h">
        <h2 id="ach-h">Achievements</h2>
        <AchievementsTable achievements={plan.achievements} />
      </section>
      {(plan.warnings.length > 0 || plan.parallelGroups.length > 0) && (
        <section className="card" aria-labelledby="plan-more-h">
          <h2 id="plan-more-h">More</h2>
          {plan.parallelGroups.length > 0 && (
            <p>
              Can run in parallel: {plan.parallelGroups.map((g) => `[${g.join(', ')}]`).join(' · ')}
            </p>
          )}
          <ul className="warnings">
            {plan.warnings.map((w) => (
              <li key={w}>{w}</li>
            ))}
          </ul>
        </section>
      )}
    </div>
  );
}
