import type { TokenUsage } from '../../../src/shared/metrics.ts';
import { ProgressBar } from '../components/ProgressBar.tsx';
import { formatNumber } from '../lib/time.ts';
import { TokenChart } from './TokenChart.tsx';

/** Totals against the budget, the chart over time, and the split by phase. */
export function TokenView({ usage }: { usage: TokenUsage }) {
  const phases = Object.entries(usage.byPhase);
  return (
    <div className="tokens">
      <div className="kv">
        <span>
          <strong>{formatNumber(usage.total)}</strong> tokens
          <span className="muted">
            {' '}
            ({formatNumber(usage.input)} in · {formatNumber(usage.output)} out)
          </span>
        </span>
        <span className={`badge level-${usage.level}`}>
          {usage.percentOfBudget.toFixed(1)} % of {formatNumber(usage.budget)} budget
        </span>
        {usage.model !== null && <span className="muted">model {usage.model}</span>}
        {usage.contextPercent !== null && (
          <span className="muted">context {Math.round(usage.contextPercent)} %</span>
        )}
      </div>
      {usage.source === 'agent_updates' && (
        <p className="muted small">
          From agents' reported token counts (one combined figure per agent, shown as input): no
          session.jsonl for this session.
        </p>
      )}
      <ProgressBar
        percent={usage.percentOfBudget}
        label="Token budget used"
        tone={usage.level === 'ok' ? 'active' : usage.level === 'warning' ? 'attention' : 'failed'}
      />
      {usage.series.length > 1 ? (
        <TokenChart series={usage.series} />
      ) : (
        <p className="empty">Not enough measurements for a chart yet.</p>
      )}
      {phases.length > 0 && (
        <table className="data compact">
          <thead>
            <tr>
              <th scope="col">Phase</th>
              <th scope="col" className="num">
                Input
              </th>
              <th scope="col" className="num">
                Output
              </th>
            </tr>
          </thead>
          <tbody>
            {phases.map(([phase, t]) => (
              <tr key={phase}>
                <th scope="row">{phase}</th>
                <td className="num">{formatNumber(t.input)}</td>
                <td className="num">{formatNumber(t.output)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
