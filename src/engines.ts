import type { Logger } from 'pino';
import { metricsSink } from './core/metrics/inputs.ts';
import { MemoryHub } from './hub/hub.ts';
import { LogBook } from './hub/logbook.ts';
import { MetricsEngine } from './hub/metrics-engine.ts';
import { PlansEngine } from './hub/plans-engine.ts';
import { SessionEngine } from './hub/session-engine.ts';
import { JsonlLogHandler, ProjectMetricsHandler } from './sources/metrics-files.ts';
import { SessionFilesHandler } from './sources/phase-files.ts';
import { PlanFoldersSource } from './sources/plans/folders.ts';
import type { FileHandler } from './sources/types.ts';
import type { LogStore, MetricsStore, SessionStore } from './store/types.ts';
import type { Telemetry } from './telemetry.ts';

export interface EnginesOptions {
  /** The hub the engines publish to (default: an in-process `MemoryHub`). */
  hub?: MemoryHub;
  store: SessionStore & MetricsStore & LogStore;
  /** Keep logs in the store too (default true; some tests keep them in memory). */
  persistLogs?: boolean;
  logger: Logger;
  tokenBudget?: number;
  now?: () => number;
  telemetry?: Telemetry;
  /** How long a bad read waits for the write that completes it (default 300 ms). */
  confirmMs?: number;
  /** How long a possible end waits for a next phase (default `END_SETTLE_MS`). */
  settleMs?: number;
  /** Runs between the session engine's restore and the metrics engine's. */
  onSessionsRestored?: () => void;
  /** The server's own machine name, for local sessions' `host` (absent: local sessions have none). */
  host?: string;
}

/** The build engines with the sources that feed them, as the app and the tests use them. */
export interface Engines {
  hub: MemoryHub;
  logs: LogBook;
  sessions: SessionEngine;
  metrics: MetricsEngine;
  /** Every file handler to give the root watcher: session files, JSONL tails, project metric files. */
  handlers: FileHandler[];
  /** Closes the sources, then the engines (timers, pending reads); not the store. */
  close(): void;
}

/**
 * The one place sources are connected to engines: the session source emits
 * `SessionFileEvent`s into `SessionEngine.apply`, the metric sources
 * `MetricsFileEvent`s into `MetricsEngine.apply`; engines import no source.
 * Restores both engines from the store before returning.
 */
export async function createEngines(opts: EnginesOptions): Promise<Engines> {
  const { store, logger } = opts;
  const hub = opts.hub ?? new MemoryHub();
  const logs = opts.persistLogs === false ? new LogBook(hub) : new LogBook(hub, { store, logger });
  const sessions = new SessionEngine({
    hub,
    store,
    logs,
    logger,
    ...(opts.now ? { now: opts.now } : {}),
    ...(opts.settleMs === undefined ? {} : { settleMs: opts.settleMs }),
    ...(opts.host === undefined ? {} : { host: opts.host }),
  });
  const sessionFiles = new SessionFilesHandler(
    (event) => sessions.apply(event),
    opts.confirmMs === undefined ? {} : { confirmMs: opts.confirmMs },
  );
  const metrics = new MetricsEngine({
    hub,
    sessions,
    store,
    logs,
    logger,
    ...(opts.tokenBudget === undefined ? {} : { tokenBudget: opts.tokenBudget }),
    ...(opts.now ? { now: opts.now } : {}),
    ...(opts.telemetry ? { telemetry: opts.telemetry } : {}),
  });
  if (opts.persistLogs !== false) await logs.loadHeads();
  await sessions.restore();
  opts.onSessionsRestored?.();
  await metrics.restore();
  const sink = metricsSink((event) => metrics.apply(event));
  const tails = new JsonlLogHandler(sink, store);
  const projectFiles = new ProjectMetricsHandler(sink);
  return {
    hub,
    logs,
    sessions,
    metrics,
    handlers: [sessionFiles, tails, projectFiles],
    close() {
      sessionFiles.close();
      projectFiles.close();
      metrics.close();
      sessions.close();
    },
  };
}

/** The plans engine fed by the plan folders under the watched roots (`work-space/plans/…`). */
export interface PlansPipeline {
  engine: PlansEngine;
  /** The file handlers to give the root watcher. */
  handlers: FileHandler[];
  /** Resolves once every scheduled folder read has been applied (after the watcher's scan). */
  idle(): Promise<void>;
  close(): void;
}

/** Connects the plan-folder source to the plans engine, as `createEngines` does for builds. */
export function createPlansPipeline(opts: {
  hub: MemoryHub;
  logger: Logger;
  debounceMs?: number;
}): PlansPipeline {
  const engine = new PlansEngine({ hub: opts.hub });
  const source = new PlanFoldersSource((event) => engine.apply(event), {
    logger: opts.logger,
    ...(opts.debounceMs === undefined ? {} : { debounceMs: opts.debounceMs }),
  });
  return {
    engine,
    handlers: source.handlers(),
    idle: () => source.idle(),
    close: () => source.close(),
  };
}
