/**
 * The metrics `GET /metrics` serves, on prom-client (one registry per
 * `Telemetry`, the Prometheus text format 0.0.4). Components report into one
 * shared `Telemetry`, naming the labels they use up front:
 *
 *     telemetry.counter('livestream_updates_received_total', 'Phase updates received', ['source']).inc({ source: 'http' });
 *     telemetry.gauge('livestream_websocket_clients', 'Connected clients', () => clients.size);
 *     telemetry.histogram('livestream_store_write_seconds', 'Store write latency', [0.001, 0.01, 0.1], ['op']).observe(s, { op });
 *
 * Asking twice for the same name returns the same instrument, so every
 * component can declare what it reports without coordinating start-up order.
 * This module loads prom-client: import it only where metrics are served
 * (app.ts does so lazily, so `status` does not pay for it).
 */

import { monitorEventLoopDelay } from 'node:perf_hooks';
import {
  collectDefaultMetrics,
  Counter as PromCounter,
  Gauge as PromGauge,
  Histogram as PromHistogram,
  Registry,
} from 'prom-client';

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

/**
 * Labels checked before prom-client sees them, so a mistake names the
 * instrument and the label (prom-client's own message shows neither well).
 */
function checked(metric: string, declared: readonly string[], labels: Labels | undefined): Labels {
  if (!labels) return {};
  for (const key of Object.keys(labels)) {
    if (!LABEL.test(key) || key.startsWith('__')) throw new Error(`invalid label name '${key}'`);
    if (!declared.includes(key)) {
      throw new Error(
        `label '${key}' of ${metric} was not declared (declared: ${declared.join(', ') || 'none'})`,
      );
    }
  }
  return labels;
}

/** A monotonically increasing count. */
export class Counter {
  readonly type = 'counter';
  readonly #metric: PromCounter;
  constructor(
    readonly name: string,
    registry: Registry,
    help: string,
    readonly labelNames: readonly string[],
  ) {
    this.#metric = new PromCounter({ name, help, labelNames, registers: [registry] });
  }

  inc(labels?: Labels, by = 1): void {
    if (!(by >= 0)) throw new Error(`counter ${this.name} can only increase`);
    this.#metric.inc(checked(this.name, this.labelNames, labels), by);
  }
}

/** A value that goes up and down: set by its owner, or read from `collect` at scrape time. */
export class Gauge {
  readonly type = 'gauge';
  readonly #metric: PromGauge;
  constructor(
    readonly name: string,
    registry: Registry,
    help: string,
    readonly labelNames: readonly string[],
    collect?: () => number | Sample[],
  ) {
    const declared = labelNames;
    this.#metric = new PromGauge({
      name,
      help,
      labelNames,
      registers: [registry],
      ...(collect
        ? {
            collect(this: PromGauge) {
              const collected = collect();
              const samples = typeof collected === 'number' ? [{ value: collected }] : collected;
              // Series that went away since the last scrape must not linger.
              this.reset();
              for (const s of samples) this.set(checked(name, declared, s.labels), s.value);
            },
          }
        : {}),
    });
  }

  set(value: number, labels?: Labels): void {
    this.#metric.set(checked(this.name, this.labelNames, labels), value);
  }

  inc(labels?: Labels, by = 1): void {
    this.#metric.inc(checked(this.name, this.labelNames, labels), by);
  }

  dec(labels?: Labels, by = 1): void {
    this.#metric.dec(checked(this.name, this.labelNames, labels), by);
  }
}

/** A distribution over fixed upper bounds (`le`), cumulative as Prometheus expects. */
export class Histogram {
  readonly type = 'histogram';
  readonly #metric: PromHistogram;
  constructor(
    readonly name: string,
    registry: Registry,
    help: string,
    buckets: readonly number[],
    readonly labelNames: readonly string[],
  ) {
    this.#metric = new PromHistogram({
      name,
      help,
      labelNames,
      buckets: [...new Set(buckets)].filter(Number.isFinite).sort((a, b) => a - b),
      registers: [registry],
    });
  }

  observe(value: number, labels?: Labels): void {
    if (!Number.isFinite(value)) return;
    this.#metric.observe(checked(this.name, this.labelNames, labels), value);
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
}

type Instrument = Counter | Gauge | Histogram;

/** The registry. Names follow Prometheus rules; a name keeps the kind it was first declared with. */
export class Telemetry {
  readonly registry = new Registry();
  readonly #instruments = new Map<string, Instrument>();
  #beforeScrape: (() => void) | undefined;

  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.#declare(name, 'counter', () => new Counter(name, this.registry, help, labelNames));
  }

  /** Without `collect` the gauge is set by its owner; with it, read at scrape time. */
  gauge(
    name: string,
    help: string,
    collect?: () => number | Sample[],
    labelNames: readonly string[] = [],
  ): Gauge {
    return this.#declare(
      name,
      'gauge',
      () => new Gauge(name, this.registry, help, labelNames, collect),
    );
  }

  histogram(
    name: string,
    help: string,
    buckets: readonly number[] = DEFAULT_BUCKETS,
    labelNames: readonly string[] = [],
  ): Histogram {
    return this.#declare(
      name,
      'histogram',
      () => new Histogram(name, this.registry, help, buckets, labelNames),
    );
  }

  /** Runs before each scrape reads anything (the soak's full collection). */
  beforeScrape(run: () => void): void {
    this.#beforeScrape = run;
  }

  /**
   * The exposition text, one metric after another in declaration order. A
   * collector that throws is reported as a comment instead of failing the
   * whole scrape (prom-client's `metrics()` would reject as a whole).
   */
  async render(): Promise<string> {
    this.#beforeScrape?.();
    const parts: string[] = [];
    for (const metric of this.registry.getMetricsAsArray()) {
      try {
        parts.push(await this.registry.getSingleMetricAsString(metric.name));
      } catch (error) {
        const why = String(error).replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
        parts.push(`# ${metric.name} collect failed: ${why}`);
      }
    }
    return `${parts.join('\n')}\n`;
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
export const PROMETHEUS_CONTENT_TYPE: string = Registry.PROMETHEUS_CONTENT_TYPE;

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
    DEFAULT_BUCKETS,
    ['op'],
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
 * Process health for long runs: prom-client's default process metrics
 * (`process_resident_memory_bytes`, `process_open_fds`, CPU, heap spaces, GC,
 * `nodejs_external_memory_bytes`, …) plus the two figures the soak reads under
 * their own names: `nodejs_heap_used_bytes`, and `nodejs_eventloop_delay_seconds`
 * (`stat` p50/p99/max/mean in seconds over the interval since the previous
 * scrape; the histogram restarts on each scrape). Returns the function that
 * stops our event-loop monitor (prom-client's collectors cannot be stopped).
 */
export function registerProcessMetrics(telemetry: Telemetry): () => void {
  collectDefaultMetrics({ register: telemetry.registry });
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  // For memory tests only (the soak starts the server with --expose-gc and this
  // variable): a full collection before the memory gauges are read, so the
  // figures are what is retained rather than when V8 last happened to collect.
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc && process.env.LIVESTREAM_GC_BEFORE_METRICS === '1') telemetry.beforeScrape(gc);
  telemetry.gauge('nodejs_heap_used_bytes', 'V8 heap in use', () => process.memoryUsage().heapUsed);
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
    ['stat'],
  );
  return () => delay.disable();
}
