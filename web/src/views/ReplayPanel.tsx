import { useEffect, useMemo, useRef, useState } from 'react';
import type { HistorySummary } from '../../../src/shared/replay.ts';
import { getJson } from '../lib/api.ts';
import { useReplayFrame } from '../lib/replayFrames.ts';
import { sessionHref } from '../lib/route.ts';
import { formatDateTime, formatDuration, formatNumber } from '../lib/time.ts';
import { FrameView } from './ReplayFrame.tsx';
import { ReplayStrip } from './ReplayStrip.tsx';

const SPEEDS = [1, 5, 10, 30, 60] as const;
/** The URL follows the slider this long after it stops (browsers throttle history updates). */
const URL_DELAY_MS = 250;

/**
 * The timeline slider. Opening it fetches the history's summary (span and a
 * coarse timeline) and the frame at the moment asked for, in parallel; each
 * scrub position or playback step then fetches one small frame from the
 * server (`useReplayFrame`), so nothing proportional to the history's length
 * is downloaded or rebuilt on the page. The moment goes into the URL
 * (`#/session/<id>?at=<ms>`) to be shared; playback runs at 1×–60×.
 */
export function ReplayPanel({ id, initialAt }: { id: string; initialAt: number | null }) {
  const [open, setOpen] = useState(initialAt !== null);
  const [summary, setSummary] = useState<HistorySummary | null>(null);
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

  const span = useMemo(
    () => (summary ? { start: summary.start, end: summary.end } : null),
    [summary],
  );
  // Until the summary is in, a linked moment is fetched as it is (the server answers any moment).
  const moment = at === null ? null : span ? Math.min(span.end, Math.max(span.start, at)) : at;
  const { frame, error: frameError } = useReplayFrame(id, open ? moment : null);

  // A linked moment's frame is asked for first, the summary (for the controls) once it is
  // in: the server then never works on the summary while the first frame waits.
  const firstFrameIn = frame !== null || frameError !== null || at === null;
  useEffect(() => {
    if (!open || summary || !firstFrameIn) return;
    const controller = new AbortController();
    getJson<HistorySummary>(`history/${encodeURIComponent(id)}/summary`, controller.signal)
      .then((s) => {
        setSummary(s);
        setAt((current) => current ?? s.start);
      })
      .catch((e: unknown) => {
        if (!controller.signal.aborted) setError((e as Error).message);
      });
    return () => controller.abort();
  }, [open, summary, id, firstFrameIn]);

  // The URL carries the moment, a little after the slider stops.
  useEffect(() => {
    if (moment === null || !open || !span) return;
    const timer = setTimeout(() => {
      window.history.replaceState(null, '', sessionHref(id, moment));
    }, URL_DELAY_MS);
    return () => clearTimeout(timer);
  }, [id, moment, open, span]);

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
      {(error ?? frameError) && (
        <p className="warn">Cannot load the history: {error ?? frameError}</p>
      )}
      {!error && !frameError && !frame && <p className="empty">Loading history…</p>}
      {span && summary && moment !== null && (
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
          <div className="replay-track">
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
            <ReplayStrip summary={summary} />
          </div>
          <span className="replay-at" data-at={Math.round(moment)}>
            {formatDateTime(moment)} (+{formatDuration(moment - span.start)})
          </span>
          <span className="muted small replay-count">
            {formatNumber(summary.transitions)} phase changes
          </span>
        </div>
      )}
      {frame && (
        <FrameView frame={frame} current={moment !== null && frame.at === Math.round(moment)} />
      )}
    </section>
  );
}
