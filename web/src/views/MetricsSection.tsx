import type { SessionStatus } from '../../../src/shared/model.ts';
import { useLive } from '../lib/live.tsx';
import { useMetrics } from '../lib/useMetrics.ts';
import { SessionMetricsPanels } from './SessionMetrics.tsx';

/** The metrics panels with their own topic subscription and the 5 s / on-status-push refresh. */
export function MetricsSection({ id, status }: { id: string; status: SessionStatus }) {
  const pushed = useLive('metrics', id);
  const metrics = useMetrics(id, pushed, status);
  return (
    <>
      <h2 className="section-title">Enhanced metrics</h2>
      <SessionMetricsPanels m={metrics} />
    </>
  );
}
