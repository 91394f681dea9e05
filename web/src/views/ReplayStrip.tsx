import { memo } from 'react';
import { CANONICAL_PHASES } from '../../../src/shared/phases.ts';
import type { HistorySummary, SummarySlice } from '../../../src/shared/replay.ts';

function sliceColor(slice: SummarySlice): string {
  if (slice.phase === null) return 'transparent';
  if (slice.state === 'failed') return 'var(--red)';
  const known = CANONICAL_PHASES.indexOf(slice.phase);
  // Canonical phases get fixed hues in workflow order; other names a hue of their own.
  let hue = known * 36;
  if (known < 0) {
    hue = 0;
    for (const ch of slice.phase) hue = (hue * 31 + ch.charCodeAt(0)) % 360;
  }
  return `hsl(${hue} 45% 50%)`;
}

/**
 * The slider's coarse timeline: one stripe per slice of the span, coloured by
 * the phase current at its end, taller where many phase changes fell. Drawn
 * once per opened replay (memoised), from `GET /api/history/:id/summary`.
 */
export const ReplayStrip = memo(function ReplayStrip({ summary }: { summary: HistorySummary }) {
  const busiest = Math.max(1, ...summary.slices.map((s) => s.changes));
  return (
    <div className="replay-strip" aria-hidden="true" data-slices={summary.slices.length}>
      {summary.slices.map((slice, i) => (
        <span
          // Slices are positional: the index is their identity.
          // biome-ignore lint/suspicious/noArrayIndexKey: see above
          key={i}
          className="replay-slice"
          title={slice.phase === null ? '' : `${slice.phase} · ${slice.changes} changes`}
          style={{
            background: sliceColor(slice),
            height: `${40 + (60 * slice.changes) / busiest}%`,
          }}
        />
      ))}
    </div>
  );
});
