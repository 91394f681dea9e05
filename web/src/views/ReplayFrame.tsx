import { memo, useLayoutEffect, useRef } from 'react';
import { alertLabel } from '../../../src/shared/attention.ts';
import type { ReplayFrame } from '../../../src/shared/replay.ts';
import { ProgressBar } from '../components/ProgressBar.tsx';
import { formatClock, formatDuration, formatNumber } from '../lib/time.ts';

/** Test iterations named in the frame's summary; earlier ones are counted. */
const TESTS_SHOWN = 6;

function testsText(tests: ReplayFrame['tests']): string {
  if (tests.length === 0) return 'none yet';
  const shown = tests
    .slice(-TESTS_SHOWN)
    .map((t) => `#${t.iteration} ${t.failed ? `${t.failed} failed` : 'passed'}`)
    .join(', ');
  const earlier = tests.length - TESTS_SHOWN;
  return earlier > 0 ? `${earlier} earlier, ${shown}` : shown;
}

/**
 * What the dashboard showed at one moment. The lists scroll in boxes of a
 * fixed height, so a new frame never changes the page's layout below it
 * (scrubbing would otherwise relayout the whole session page each frame).
 * The body is memoised on the frame: a slider step that has no new frame yet
 * re-renders the outer element's attributes only.
 */
export function FrameView({ frame, current }: { frame: ReplayFrame; current: boolean }) {
  const s = frame.status;
  return (
    <div
      className="replay-frame"
      data-replay-phase={s.currentPhase}
      data-replay-state={s.state}
      data-replay-at={frame.at}
      aria-busy={!current}
    >
      <FrameBody frame={frame} />
    </div>
  );
}

const FrameBody = memo(function FrameBody({ frame }: { frame: ReplayFrame }) {
  const s = frame.status;
  const cost = frame.tokens.costUsd;
  const timelineBox = useRef<HTMLOListElement>(null);
  const logBox = useRef<HTMLOListElement>(null);
  // Both boxes end at the moment shown: keep their newest rows in view, as the live log does
  // (after each render, and the memo renders only for a new frame).
  useLayoutEffect(() => {
    for (const box of [timelineBox.current, logBox.current]) {
      if (box) box.scrollTop = box.scrollHeight;
    }
  });
  return (
    <>
      <div className="replay-summary">
        <div>
          <span className="muted small">Phase</span>
          <strong className="replay-phase">{s.currentPhase || 'unknown'}</strong>
          <span className="muted small">
            {s.phaseNumber.raw ?? ''} · {s.status}
          </span>
        </div>
        <div>
          <span className="muted small">Tokens so far</span>
          <strong className="replay-tokens">{formatNumber(frame.tokens.total)}</strong>
          <span className="muted small">
            {formatNumber(frame.tokens.input)} in · {formatNumber(frame.tokens.output)} out
            {cost === null ? '' : ` · $${cost.toFixed(2)}`}
          </span>
        </div>
        <div>
          <span className="muted small">Tests</span>
          <strong className="replay-tests">{testsText(frame.tests)}</strong>
        </div>
      </div>
      <ProgressBar
        percent={s.progressPercent}
        label="Progress then"
        tone={s.state === 'active' ? 'active' : s.state}
      />
      {frame.alerts.length > 0 && (
        <ul className="replay-alerts">
          {frame.alerts.map((a) => (
            <li key={a.id} className={`alert-${a.severity}`}>
              <span className="badge">{alertLabel(a.kind)}</span> {a.reason}
              {a.resolvedAt !== null
                ? ' (resolved)'
                : a.acknowledgedAt !== null
                  ? ' (acknowledged)'
                  : ''}
            </li>
          ))}
        </ul>
      )}
      <p className="muted small replay-rows">
        {formatNumber(frame.timelineLength)} phase changes by then
        {frame.timelineLength > frame.timeline.length
          ? `, the last ${frame.timeline.length} shown`
          : ''}
      </p>
      <div className="two-col">
        <ol className="replay-timeline" aria-label="Timeline then" ref={timelineBox}>
          {frame.timeline.map((t) => (
            <li key={`${t.startedAt}-${t.phase}`} className="replay-tl-row">
              <span>{t.phase}</span>
              <span className="muted small">
                {formatClock(t.startedAt)} ·{' '}
                {t.durationMs === null ? 'running' : formatDuration(t.durationMs)}
              </span>
            </li>
          ))}
        </ol>
        <ol className="replay-log log-box" aria-label="Log then" ref={logBox}>
          {frame.log.map((l) => (
            <li key={l.n} className={`replay-log-row lvl-${l.level}`}>
              <span className="log-time">{formatClock(l.at)}</span>
              <span className="log-text">{l.text}</span>
            </li>
          ))}
        </ol>
      </div>
    </>
  );
});
