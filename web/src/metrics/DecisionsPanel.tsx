import type { Decision, DecisionKind } from '../../../src/shared/metrics.ts';

const KIND: Record<DecisionKind, string> = {
  issue: 'issue',
  pattern: 'pattern',
  common_issue: 'common issue',
};

/** Issues found, solutions and patterns from the feedback files. */
export function DecisionsView({ decisions }: { decisions: Decision[] }) {
  if (decisions.length === 0) return <p className="empty">No decisions recorded.</p>;
  return (
    <div className="table-wrap">
      <table className="data decisions">
        <thead>
          <tr>
            <th scope="col">Kind</th>
            <th scope="col">What</th>
            <th scope="col">Phase</th>
            <th scope="col">Solution</th>
            <th scope="col">Severity</th>
          </tr>
        </thead>
        <tbody>
          {decisions.map((d) => (
            <tr key={`${d.kind}:${d.id}`} title={d.source}>
              <td>
                <span className={`badge kind-${d.kind}`}>{KIND[d.kind]}</span>
              </td>
              <td>{d.title}</td>
              <td>{d.phase ?? '—'}</td>
              <td>{d.solution ?? '—'}</td>
              <td>{d.severity ?? '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
