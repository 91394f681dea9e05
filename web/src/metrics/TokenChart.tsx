import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { TokenPoint } from '../../../src/shared/metrics.ts';
import { compactCount } from '../lib/time.ts';

const AXIS = {
  stroke: '#b8c0cc',
  grid: { stroke: '#2a3340', width: 1 },
  ticks: { stroke: '#2a3340' },
};

function toData(series: TokenPoint[]): uPlot.AlignedData {
  return [
    series.map((p) => p.at / 1000),
    series.map((p) => p.cumulativeInput),
    series.map((p) => p.cumulativeOutput),
  ];
}

/** Cumulative input and output tokens over time (uPlot, canvas; resizes with its box). */
export function TokenChart({ series }: { series: TokenPoint[] }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const latest = useRef(series);
  latest.current = series;

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height: 200,
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true } },
      // Compact labels ("1.2M") so the y axis never clips ".00,000".
      axes: [AXIS, { ...AXIS, size: 64, values: (_u, splits) => splits.map(compactCount) }],
      series: [
        {},
        { label: 'input', stroke: '#5aa9ff', width: 2, fill: 'rgba(90,169,255,0.12)' },
        { label: 'output', stroke: '#f5a524', width: 2 },
      ],
    };
    const p = new uPlot(opts, toData(latest.current), el);
    plot.current = p;
    const ro = new ResizeObserver(() =>
      p.setSize({ width: Math.max(200, el.clientWidth), height: 200 }),
    );
    ro.observe(el);
    return () => {
      ro.disconnect();
      p.destroy();
      plot.current = null;
    };
  }, []);

  useEffect(() => {
    plot.current?.setData(toData(series));
  }, [series]);

  return (
    <div
      ref={box}
      className="chart"
      role="img"
      aria-label={`Cumulative tokens over time, ${series.length} measurements`}
    />
  );
}
