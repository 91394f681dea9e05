import { useCallback, useLayoutEffect, useRef, useState } from 'react';
import type { LogLine } from '../../../src/shared/model.ts';
import { formatClock } from '../lib/time.ts';

/** Row height in px; fixed so the window of visible rows is plain arithmetic. */
export const LOG_ROW_PX = 20;
/** Lines kept in memory by the view, whatever the server's cap. */
export const LOG_MAX_LINES = 5000;
const OVERSCAN = 10;
/** Within this many px of the bottom counts as "at the tail". */
const TAIL_SLACK = LOG_ROW_PX * 1.5;

/**
 * The live log: follows the tail, pauses when the user scrolls up (with a
 * "jump to latest" button), renders only the visible rows.
 */
export function LogView({ lines: all }: { lines: LogLine[] }) {
  const lines = all.length > LOG_MAX_LINES ? all.slice(all.length - LOG_MAX_LINES) : all;
  const box = useRef<HTMLDivElement>(null);
  const [follow, setFollow] = useState(true);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(400);
  const pausedAtN = useRef<number | null>(null);
  const firstN = useRef<number | null>(null);
  const lastN = lines.at(-1)?.n ?? null;

  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return;
    setHeight(el.clientHeight);
    const ro = new ResizeObserver(() => setHeight(el.clientHeight));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  // Keep the tail in view while following; keep the reader's lines still while paused,
  // even when the cap drops lines from the top.
  useLayoutEffect(() => {
    const el = box.current;
    const first = lines[0]?.n ?? null;
    if (el) {
      if (follow) el.scrollTop = el.scrollHeight;
      else if (first !== null && firstN.current !== null && first > firstN.current) {
        el.scrollTop = Math.max(0, el.scrollTop - (first - firstN.current) * LOG_ROW_PX);
      }
      setScrollTop(el.scrollTop);
    }
    firstN.current = first;
  }, [lines, follow]);

  const onScroll = useCallback(() => {
    const el = box.current;
    if (!el) return;
    setScrollTop(el.scrollTop);
    const atTail = el.scrollHeight - el.scrollTop - el.clientHeight <= TAIL_SLACK;
    setFollow(atTail);
  }, []);

  const jump = () => {
    const el = box.current;
    if (el) el.scrollTop = el.scrollHeight;
    setFollow(true);
  };

  if (follow) pausedAtN.current = lastN;
  const unseen =
    !follow && lastN !== null && pausedAtN.current !== null ? lastN - pausedAtN.current : 0;
  const start = Math.max(0, Math.floor(scrollTop / LOG_ROW_PX) - OVERSCAN);
  const end = Math.min(lines.length, Math.ceil((scrollTop + height) / LOG_ROW_PX) + OVERSCAN);
  const rows = [];
  for (let i = start; i < end; i++) {
    const l = lines[i];
    if (!l) continue;
    rows.push(
      <div
        key={l.n}
        data-n={l.n}
        className={`log-row lvl-${l.level}`}
        style={{ top: i * LOG_ROW_PX }}
        title={l.text}
      >
        <span className="log-time">{formatClock(l.at)}</span>
        {l.kind !== undefined && <span className="log-kind">{l.kind}</span>}
        <span className="log-text">
          {l.kind !== undefined && l.text.startsWith(`${l.kind}: `)
            ? l.text.slice(l.kind.length + 2)
            : l.text}
        </span>
      </div>,
    );
  }
  return (
    <div className="logview">
      <div
        ref={box}
        className="log-box"
        role="log"
        aria-label="Session log"
        aria-live="off"
        // biome-ignore lint/a11y/noNoninteractiveTabindex: the log scrolls, so keyboard users must be able to focus it
        tabIndex={0}
        onScroll={onScroll}
        data-following={follow}
      >
        {lines.length === 0 ? (
          <p className="empty">No log lines yet.</p>
        ) : (
          <div className="log-spacer" style={{ height: lines.length * LOG_ROW_PX }}>
            {rows}
          </div>
        )}
      </div>
      {!follow && (
        <button type="button" className="jump" onClick={jump}>
          ↓ Jump to latest{unseen > 0 ? ` (${unseen} new)` : ''}
        </button>
      )}
      <p className="muted small">
        {lines.length.toLocaleString('en-US')} lines kept
        {all.length > lines.length ? ` (last ${LOG_MAX_LINES})` : ''} ·{' '}
        {follow ? 'following the tail' : 'paused'}
      </p>
    </div>
  );
}
