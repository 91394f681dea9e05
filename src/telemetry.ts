/**
 * A tiny in-process metrics registry rendered in the Prometheus text format
 * 0.0.4 (`GET /metrics`). Components report into one shared `Telemetry`:
 *
 *     telemetry.counter('livestream_updates_received_total', 'Phase updates received').inc({ source: 'http' });
 *     telemetry.gauge('livestream_websocket_clients', 'Connected clients', () => clients.size);
 *     telemetry.histogram('livestream_store_write_seconds', 'Store write latency', [0.001, 0.01, 0.1]).observe(s);
 *
 * Asking twice for the same name returns the same instrument, so every
 * component can declare what it reports without coordinating start-up order.
 */

import { readdirSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

export type Labels = Record<string, string>;

/** A sample a gauge's collect callback returns. */
export interface Sample {
  labels?: Labels;
  value: number;
}

/** Seconds; suits store writes and request handling. */
export const DEFAULT_BUCKETS: readonly number[] = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
];

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function labelKey(labels: Labels | undefined): string {
  if (!labels) return '';
  const keys = Object.keys(labels).sort();
  for (const key of keys) {
    if (!LABEL.test(key) || key.startsWith('__')) throw new Error(`invalid label name '${key}'`);
  }
  return keys.map((k) => `${k}="${escapeLabel(String(labels[k]))}"`).join(',');
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function escapeHelp(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

function series(name: string, key: string, value: number): string {
  return `${name}${key ? `{${key}}` : ''} ${formatValue(value)}`;
}

/** A monotonically increasing count. */
export class Counter {
  readonly type = 'counter';
  readonly #values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  inc(labels?: Labels, by = 1): void {
    if (!(by >= 0)) throw new Error(`counter ${this.name} can only increase`);
    const key = labelKey(labels);
    this.#values.set(key, (this.#values.get(key) ?? 0) + by);
  }

  value(labels?: Labels): number {
    return this.#values.get(labelKey(labels)) ?? 0;
  }

  render(): string[] {
    return [...this.#values].map(([key, value]) => series(this.name, key, value));
  }
}

/** A value that goes up and down: set directly, or read from `collect` at scrape time. */
export class Gauge {
  readonly type = 'gauge';
  readonly #values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly collect?: () => number | Sample[],
  ) {}

  set(value: number, labels?: Labels): void {
    this.#values.set(labelKey(labels), value);
  }

  inc(labels?: Labels, by = 1): void {
    const key = labelKey(labels);
    this.#values.set(key, (this.#values.get(key) ?? 0) + by);
  }

  dec(labels?: Labels, by = 1): void {
    this.inc(labels, -by);
  }

  render(): string[] {
    const out = [...this.#values].map(([key, value]) => series(this.name, key, value));
    if (this.collect) {
      const collected = this.collect();
      const samples = typeof collected === 'number' ? [{ value: collected }] : collected;
      for (const sample of samples)
        out.push(series(this.name, labelKey(sample.labels), sample.value));
    }
    return out;
  }
}

interface HistogramSeries {
  counts: number[];
  sum: number;
  count: number;
}

/** A distribution over fixed upper bounds (`le`), cumulative as Prometheus expects. */
export class Histogram {
  readonly type = 'histogram';
  readonly buckets: readonly number[];
  readonly #series = new Map<string, HistogramSeries>();
  constructor(
    readonly name: string,
    readonly help: string,
    buckets: readonly number[] = DEFAULT_BUCKETS,
  ) {
    this.buckets = [...new Set(buckets)].filter(Number.isFinite).sort((a, b) => a - b);
  }

  observe(value: number, labels?: Labels): void {
    if (!Number.isFinite(value)) return;
    const key = labelKey(labels);
    let s = this.#series.get(key);
    if (!s) {
      s = { counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.#series.set(key, s);
    }
    for (let i = 0; i < this.buckets.length; i++) {
      if (value <= (this.buckets[i] as number)) s.counts[i] = (s.counts[i] as number) + 1;
    }
    s.sum += value;
    s.count++;
  }

  /** Observes the seconds elapsed until `done` settles; returns its result. */
  async time<T>(done: Promise<T>, labels?: Labels): Promise<T> {
    const start = performance.now();
    try {
      return await done;
    } finally {
      this.observe((performance.now() - start) / 1000, labels);
    }
  }

  snapshot(labels?: Labels): HistogramSeries | undefined {
    const s = this.#series.get(labelKey(labels));
    return s && { counts: [...s.counts], sum: s.sum, count: s.count };
  }

  render(): string[] {
    const out: string[] = [];
    for (const [key, s] of this.#series) {
      const prefix = key ? `${key},` : '';
      this.buckets.forEach((le, i) => {
        out.push(
          series(`${this.name}_bucket`, `${prefix}le="${formatValue(le)}"`, s.counts[i] ?? 0),
        );
      });
      out.push(series(`${this.name}_bucket`, `${prefix}le="+Inf"`, s.count));
      out.push(series(`${this.name}_sum`, key, s.sum));
      out.push(series(`${this.name}_count`, key, s.count));
    }
    return out;
  }
}

type Instrument = Counter | Gauge | Histogram;

/** The registry. Names follow Prometheus rules; a name keeps the kind it was first declared with. */
export class Telemetry {
  readonly #instruments = new Map<string, Instrument>();

  counter(name: string, help: string): Counter {
    return this.#declare(name, 'counter', () => new Counter(name, help));
  }

  /** Without `collect` the gauge is set by its owner; with it, read at scrape time. */
  gauge(name: string, help: string, collect?: () => number | Sample[]): Gauge {
    return this.#declare(name, 'gauge', () => new Gauge(name, help, collect));
  }

  histogram(name: string, help: string, buckets?: readonly number[]): Histogram {
    return this.#declare(name, 'histogram', () => new Histogram(name, help, buckets));
  }

  /**
   * The exposition text. A collect callback that throws is reported as a
   * comment instead of failing the whole scrape.
   */
  render(): string {
    const lines: string[] = [];
    for (const instrument of this.#instruments.values()) {
      let body: string[];
      try {
        body = instrument.render();
      } catch (error) {
        lines.push(`# ${instrument.name} collect failed: ${escapeHelp(String(error))}`);
        continue;
      }
      lines.push(`# HELP ${instrument.name} ${escapeHelp(instrument.help)}`);
      lines.push(`# TYPE ${instrument.name} ${instrument.type}`);
      lines.push(...body);
    }
    return `${lines.join('\n')}\n`;
  }

  #declare<T extends Instrument>(name: string, type: T['type'], create: () => T): T {
    const existing = this.#instruments.get(name);
    if (existing) {
      if (existing.type !== type) {
        throw new Error(`metric ${name} is already a ${existing.type}, not a ${type}`);
      }
      return existing as T;
    }
    if (!NAME.test(name)) throw new Error(`invalid metric name '${name}'`);
    const instrument = create();
    this.#instruments.set(name, instrument);
    return instrument;
  }
}

/** The content type of `render()`. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Store methods that write, timed by `timeStoreWrites`. */
export const STORE_WRITE_METHODS: ReadonlySet<string> = new Set([
  'saveSession',
  'addTransition',
  'setOffset',
  'addTokenPoint',
  'saveTestIteration',
  'saveAgent',
  'saveDecision',
  'saveLogLines',
]);

/**
 * The store, with each write's latency (until its promise settles, queueing
 * included) observed in `livestream_store_write_seconds{op}`. Methods run on
 * the real store, so private state keeps working.
 */
export function timeStoreWrites<T extends object>(store: T, telemetry: Telemetry): T {
  const latency = telemetry.histogram(
    'livestream_store_write_seconds',
    'History store write latency, queueing included',
  );
  return new Proxy(store, {
    get(target, property) {
      const value = Reflect.get(target, property, target) as unknown;
      if (typeof value !== 'function') return value;
      if (typeof property !== 'string' || !STORE_WRITE_METHODS.has(property))
        return value.bind(target);
      return (...args: unknown[]) => {
        const result = value.apply(target, args) as unknown;
        return result instanceof Promise ? latency.time(result, { op: property }) : result;
      };
    },
  });
}

/**
 * Process health for long runs: resident memory, heap, open file descriptors
 * and event-loop delay (`stat` p50/p99/max/mean in seconds over the interval
 * since the previous scrape; the histogram restarts on each scrape). Returns
 * the function that stops the event-loop monitor.
 */
export function registerProcessMetrics(telemetry: Telemetry): () => void {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  // For memory tests only (the soak starts the server with --expose-gc and this
  // variable): a full collection before the memory gauges are read, so the
  // figures are what is retained rather than when V8 last happened to collect.
  const gc = (globalThis as { gc?: () => void }).gc;
  const collectFirst = process.env.LIVESTREAM_GC_BEFORE_METRICS === '1' ? gc : undefined;
  telemetry.gauge('process_resident_memory_bytes', 'Resident set size', () => {
    collectFirst?.();
    return process.memoryUsage.rss();
  });
  telemetry.gauge('nodejs_heap_used_bytes', 'V8 heap in use', () => process.memoryUsage().heapUsed);
  telemetry.gauge(
    'nodejs_external_memory_bytes',
    'Memory of Buffers and other objects outside the V8 heap',
    () => process.memoryUsage().external,
  );
  telemetry.gauge('process_open_fds', 'Open file descriptors', () => {
    try {
      return readdirSync('/proc/self/fd').length;
    } catch {
      return [];
    }
  });
  telemetry.gauge(
    'nodejs_eventloop_delay_seconds',
    'Event-loop delay since the previous scrape',
    () => {
      // The histogram records whole timer intervals: the lateness is what exceeds the resolution.
      const seconds = (ns: number) => (Number.isFinite(ns) ? Math.max(0, ns - 10e6) / 1e9 : 0);
      const samples: Sample[] = [
        { labels: { stat: 'p50' }, value: seconds(delay.percentile(50)) },
        { labels: { stat: 'p99' }, value: seconds(delay.percentile(99)) },
        { labels: { stat: 'max' }, value: seconds(delay.max) },
        { labels: { stat: 'mean' }, value: seconds(delay.mean) },
      ];
      delay.reset();
      return samples;
    },
  );
  return () => delay.disable();
}
