import type { MetricsState } from '../lib/useMetrics.ts';
import { AgentsView } from '../metrics/AgentsPanel.tsx';
import { DecisionsView } from '../metrics/DecisionsPanel.tsx';
import { Panel } from '../metrics/Panel.tsx';
import { TestsView } from '../metrics/TestsPanel.tsx';
import { TokenView } from '../metrics/TokenPanel.tsx';

/** The four enhanced-metrics panels; each degrades on its own. */
export function SessionMetricsPanels({ m }: { m: MetricsState }) {
  const d = m.data;
  const pick = <K extends 'token_usage' | 'test_iterations' | 'agent_performance' | 'decisions'>(
    k: K,
  ) => (d === undefined ? undefined : d === null ? null : d[k]);
  return (
    <div className="metrics-grid">
      <Panel
        id="tokens"
        title="Token usage"
        section={pick('token_usage')}
        updatedAt={m.at}
        error={m.error}
      >
        {(usage) => <TokenView usage={usage} />}
      </Panel>
      <Panel
        id="tests"
        title="Test iterations"
        section={pick('test_iterations')}
        updatedAt={m.at}
        error={m.error}
      >
        {(list) => <TestsView iterations={list} />}
      </Panel>
      <Panel
        id="agents"
        title="Agent performance"
        section={pick('agent_performance')}
        updatedAt={m.at}
        error={m.error}
      >
        {(list) => <AgentsView agents={list} />}
      </Panel>
      <Panel
        id="decisions"
        title="Decisions"
        section={pick('decisions')}
        updatedAt={m.at}
        error={m.error}
      >
        {(list) => <DecisionsView decisions={list} />}
      </Panel>
      {d && d.warnings.length > 0 && (
        <section className="card panel" aria-label="Metric source warnings">
          <h3>Metric source warnings</h3>
          <ul className="warnings">
            {d.warnings.map((w) => (
              <li key={`${w.code}-${w.at}`}>
                <code>{w.code}</code> {w.message}
              </li>
            ))}
          </ul>
        </section>
      )}
    </div>
  );
}
