import type { SessionStatus, TimelineEntry } from '../../../src/shared/model.ts';
import { buildSteps, type StepState } from '../lib/phases.ts';

const MARK: Record<StepState, string> = {
  completed: '✓',
  current: '▶',
  failed: '✕',
  pending: '○',
  skipped: '–',
};

/** Every phase of the workflow, in order, with what happened to it. */
export function PhaseStepper({
  status,
  timeline,
}: {
  status: SessionStatus;
  timeline: TimelineEntry[];
}) {
  const steps = buildSteps(status, timeline);
  return (
    <ol className="stepper" aria-label="Workflow phases">
      {steps.map((s) => (
        <li
          key={s.name}
          className={`step step-${s.state}${s.extra ? ' step-extra' : ''}`}
          aria-current={s.state === 'current' ? 'step' : undefined}
          data-state={s.state}
        >
          <span className="step-mark" aria-hidden="true">
            {MARK[s.state]}
          </span>
          <span className="step-name">{s.name}</span>
          {s.number !== null && <span className="step-num">{s.number}</span>}
          {s.loops > 0 && (
            <span className="step-loop" title={`came back ${s.loops}× in self-healing loops`}>
              ↻{s.loops}
            </span>
          )}
          <span className="sr-only"> ({s.state})</span>
        </li>
      ))}
    </ol>
  );
}
