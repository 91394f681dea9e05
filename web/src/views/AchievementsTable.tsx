import type { Achievement, AchievementStatus } from '../../../src/shared/plans.ts';
import { InlineMarkdown } from '../components/InlineMarkdown.tsx';

const STATUS_TEXT: Record<AchievementStatus, string> = {
  approved: 'approved',
  fix_pending: 'fix pending',
  in_progress: 'in progress',
  ready: 'ready to execute',
  not_started: 'not started',
};

/** Every achievement in index order (unindexed ones flagged), with its status and next action. */
export function AchievementsTable({ achievements }: { achievements: Achievement[] }) {
  if (achievements.length === 0)
    return <p className="empty">The plan index lists no achievements.</p>;
  return (
    <div className="table-wrap">
      <table className="data achievements">
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">Title</th>
            <th scope="col">Status</th>
            <th scope="col">Next action</th>
            <th scope="col" className="num">
              Files
            </th>
          </tr>
        </thead>
        <tbody>
          {achievements.map((a) => (
            <tr key={a.id} className={`ach-${a.status}`} data-achievement={a.id}>
              <th scope="row">{a.id}</th>
              <td>
                {a.title !== null ? (
                  <InlineMarkdown text={a.title} />
                ) : (
                  <span className="muted">(files without an index entry)</span>
                )}
                {a.dependencies.length > 0 && (
                  <div className="muted small">after {a.dependencies.join(', ')}</div>
                )}
              </td>
              <td>
                <span className={`badge ach-badge-${a.status}`}>{STATUS_TEXT[a.status]}</span>
              </td>
              <td>{a.nextAction ?? '—'}</td>
              <td
                className="num"
                title={[...a.subplans, ...a.executions, ...a.approvals, ...a.fixes].join('\n')}
              >
                {a.subplans.length + a.executions.length + a.approvals.length + a.fixes.length}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
