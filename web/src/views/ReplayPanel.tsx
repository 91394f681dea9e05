import { useEffect, useMemo, useRef, useState } from 'react';
import { alertLabel } from '../../../src/shared/attention.ts';
import {
  frameAt,
  historySpan,
  type ReplayFrame,
  type SessionHistory,
} from '../../../src/shared/replay.ts';
import { ProgressBar } from '../components/ProgressBar.tsx';
import { getJson } from '../lib/api.ts';
import { sessionHref } from '../lib/route.ts';
import { formatClock, formatDateTime, formatDuration, formatNumber } from '../lib/time.ts';

const SPEEDS = [1, 5, 10, 30, 60] as const;
/** The URL follows the slider this long after it stops (browsers throttle history updates). */
const URL_DELAY_MS = 250;

function FrameView({ frame }: { frame: ReplayFrame }) {
  const s = frame.status;
  const cost = frame.tokens.costUsd;
  return (
    <div className="replay-frame" data-replay-phase={s.currentPhase} data-replay-state={s.state}>
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
          <strong className="replay-tests">
            {frame.tests.length === 0
              ? 'none yet'
              : frame.tests
                  .map((t) => `#${t.iteration} ${t.failed ? `${t.failed} failed` : 'passed'}`)
                  .join(', ')}
          </strong>
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
      <div className="two-col">
        <ol className="replay-timeline" aria-label="Timeline then">
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
        <ol className="replay-log log-box" aria-label="Log then">
          {frame.log.map((l) => (
            <li key={l.n} className={`log-row log-${l.level}`}>
              <span className="log-time">{formatClock(l.at)}</span> {l.text}
            </li>
          ))}
        </ol>
      </div>
    </div>
  );
}

/**
 * The timeline slider: loads the session's stored history once and rebuilds
 * what the dashboard showed at any moment of it (`frameAt`, a few binary
 * searches per frame, so scrubbing stays smooth on long histories). The
 * moment goes into the URL (`#/session/<id>?at=<ms>`) to be shared; playback
 * runs at 1×–60×.
 */
export function ReplayPanel({ id, initialAt }: { id: string; initialAt: number | null }) {
  const [open, setOpen] = useState(initialAt !== null);
  const [history, setHistory] = useState<SessionHistory | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [at, setAt] = useState<number | null>(initialAt);
  const [playing, setPlaying] = useState(false);
  const [speed, setSpeed] = useState<number>(10);

  // A link to a moment opened on this page (a hash change, not a new page).
  useEffect(() => {
    if (initialAt === null) return;
    setOpen(true);
    setAt(initialAt);
  }, [initialAt]);

  useEffect(() => {
    if (!open || history) return;
    const controller = new AbortController();
    getJson<SessionHistory>(`history/${encodeURIComponent(id)}`, controller.signal)
      .then((h) => {
        setHistory(h);
        setAt((current) => current ?? historySpan(h).start);
      })
      .catch((e: unknown) => {
        if (!controller.signal.aborted) setError((e as Error).message);
      });
    return () => controller.abort();
  }, [open, history, id]);

  const span = useMemo(() => (history ? historySpan(history) : null), [history]);
  const moment = span && at !== null ? Math.min(span.end, Math.max(span.start, at)) : null;
  const frame = useMemo(
    () => (history && moment !== null ? frameAt(history, moment) : null),
    [history, moment],
  );

  // The URL carries the moment, a little after the slider stops.
  useEffect(() => {
    if (moment === null || !open) return;
    const timer = setTimeout(() => {
      window.history.replaceState(null, '', sessionHref(id, moment));
    }, URL_DELAY_MS);
    return () => clearTimeout(timer);
  }, [id, moment, open]);

  const last = useRef<number | null>(null);
  useEffect(() => {
    if (!playing || !span) return;
    let raf = 0;
    last.current = null;
    const tick = (t: number) => {
      const dt = last.current === null ? 0 : t - last.current;
      last.current = t;
      let ended = false;
      setAt((current) => {
        const next = (current ?? span.start) + dt * speed;
        ended = next >= span.end;
        return Math.min(span.end, next);
      });
      if (ended) setPlaying(false);
      else raf = requestAnimationFrame(tick);
    };
    raf = requestAnimationFrame(tick);
    return () => cancelAnimationFrame(raf);
  }, [playing, speed, span]);

  if (!open) {
    return (
      <section className="card replay" aria-label="Replay">
        <button type="button" className="ghost" onClick={() => setOpen(true)}>
          Replay this session
        </button>
      </section>
    );
  }
  return (
    <section className="card replay" aria-labelledby="replay-h">
      <div className="card-head">
        <h2 id="replay-h">Replay</h2>
        <button
          type="button"
          className="ghost"
          onClick={() => {
            setOpen(false);
            setPlaying(false);
            window.history.replaceState(null, '', sessionHref(id));
          }}
        >
          Back to live
        </button>
      </div>
      {error && <p className="warn">Cannot load the history: {error}</p>}
      {!error && (!span || moment === null || !frame) && <p className="empty">Loading history…</p>}
      {span && moment !== null && frame && (
        <>
          <div className="replay-controls">
            <button
              type="button"
              onClick={() => {
                if (!playing && moment >= span.end) setAt(span.start);
                setPlaying(!playing);
              }}
            >
              {playing ? 'Pause' : 'Play'}
            </button>
            <label>
              Speed{' '}
              <select
                className="replay-speed"
                value={speed}
                onChange={(e) => setSpeed(Number(e.target.value))}
              >
                {SPEEDS.map((x) => (
                  <option key={x} value={x}>
                    {x}×
                  </option>
                ))}
              </select>
            </label>
            <input
              className="replay-slider"
              type="range"
              aria-label="Moment"
              min={span.start}
              max={span.end}
              step={1}
              value={Math.round(moment)}
              onChange={(e) => {
                setPlaying(false);
                setAt(Number(e.target.value));
              }}
            />
            <span className="replay-at" data-at={Math.round(moment)}>
              {formatDateTime(moment)} (+{formatDuration(moment - span.start)})
            </span>
          </div>
          <FrameView frame={frame} />
        </>
      )}
    </section>
  );
}
