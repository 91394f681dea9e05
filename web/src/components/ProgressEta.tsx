import type { SessionStatus } from '../../../src/shared/model.ts';
import { useNow } from '../lib/now.ts';
import { formatClock, formatDateTime, formatDuration } from '../lib/time.ts';
import { ProgressBar } from './ProgressBar.tsx';

/** Overall progress, elapsed time and the server's ETA (computed from observed phase durations). */
export function ProgressEta({ s }: { s: SessionStatus }) {
  const now = useNow();
  const percent = s.state === 'completed' ? 100 : s.progressPercent;
  // The LLM's started_at can be months off or missing: elapsed counts from the first-seen mtime.
  const start = s.firstSeenAt;
  const end = s.state === 'active' ? now : s.changedAt;
  let eta: string;
  if (s.state !== 'active') eta = `${s.state} at ${formatDateTime(s.changedAt)}`;
  else if (s.etaAt === null) eta = 'ETA unknown (not enough phase history yet)';
  else if (s.etaAt <= now) eta = 'ETA: any moment now (past estimate)';
  else eta = `ETA ${formatClock(s.etaAt)} (in ${formatDuration(s.etaAt - now)})`;
  return (
    <div className="progress-eta">
      <div className="pe-line">
        <strong>{percent === null ? 'Progress unknown' : `${Math.round(percent)} %`}</strong>
        {s.phaseNumber.raw !== null && <span className="muted"> · phase {s.phaseNumber.raw}</span>}
        <span className="muted"> · elapsed {formatDuration(end - start)}</span>
      </div>
      <ProgressBar
        percent={percent}
        label="Session progress"
        tone={s.state === 'active' ? 'active' : s.state}
      />
      <div className="pe-line muted" data-testid="eta">
        {eta}
      </div>
    </div>
  );
}
