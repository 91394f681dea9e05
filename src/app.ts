import { hostname } from 'node:os';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { AttentionConfig } from './attention-config.ts';
import type { AppConfig } from './config.ts';
import type { AgentInput } from './core/agents/events.ts';
import { createEngines, createPlansPipeline, type Engines } from './engines.ts';
import { AgentsEngine, buildPhases } from './hub/agents-engine.ts';
import { AttentionEngine } from './hub/attention-engine.ts';
import { InProcessBus } from './hub/fanout.ts';
import { MemoryHub } from './hub/hub.ts';
import type { MetricsEngine } from './hub/metrics-engine.ts';
import type { PlansEngine } from './hub/plans-engine.ts';
import type { SessionEngine } from './hub/session-engine.ts';
import { BusAwayError } from './hub/types.ts';
import {
  type Channel,
  DesktopChannel,
  parseWebhookUrl,
  WebhookChannel,
} from './notify/channels.ts';
import { Notifier } from './notify/notifier.ts';
import { wireCodec } from './server/encode.ts';
import { ForwarderTokens, ForwardIngest } from './server/forward-ingest.ts';
import { safeHostName } from './shared/forward.ts';
import { topic } from './shared/topics.ts';
import { FileAgentState } from './sources/agents/file-state.ts';
import { loadPrices, startAgentTranscripts } from './sources/agents/index.ts';
import { RootWatcher } from './sources/watcher.ts';
import type { AlertStore } from './store/alert-store.ts';
import { SqliteStore } from './store/sqlite-store.ts';
import type { HistoryStore } from './store/types.ts';
import type { Telemetry } from './telemetry.ts';

const DAY_MS = 86_400_000;
/** How often logs are checked for leaving memory (they leave after `DEFAULT_LOG_IDLE_MS` unused). */
const LOG_SWEEP_MS = 60_000;

/** The wired application: one instance per `serve`, shared by every command that needs the engine. */
export interface App {
  readonly hub: MemoryHub;
  readonly sessions: SessionEngine;
  readonly metrics: MetricsEngine;
  readonly plans: PlansEngine;
  readonly store: HistoryStore;
  readonly attention: AttentionEngine;
  readonly notifier: Notifier;
  readonly alerts: AlertStore;
  readonly agents: AgentsEngine;
  /** Only when listening: nothing else can read the metrics. */
  readonly telemetry: Telemetry | null;
  readonly server: FastifyInstance | null;
  /** Base URL once listening. */
  readonly url: string | null;
  /** One-time login path when a token is required. */
  readonly loginPath: string | null;
  stop(): Promise<void>;
}

export interface CreateAppOptions {
  config: AppConfig;
  logger: Logger;
  /** Without a server: watch the roots, derive, and stop (the `status` command). */
  listen?: boolean;
  /**
   * Called once the server listens, before the roots are read whole: the
   * dashboard and `/api/health` (its `scan` progress) answer while a large
   * tree is read. `createApp` resolves once it is read.
   */
  onListening?: (url: string, loginPath: string | null) => void;
  /** A hub on a shared bus (`serve --bus`, the writer replica); default: in-process. */
  hub?: MemoryHub;
}

/**
 * Wires sources → core → hub → server with the store beside the hub. Each
 * resource opened is closed by `stop()`, in reverse order, even when start-up
 * fails half-way.
 */
export async function createApp({
  config,
  logger,
  listen = true,
  onListening,
  ...options
}: CreateAppOptions): Promise<App> {
  const closers: (() => Promise<void> | void)[] = [];
  const stop = async () => {
    for (const close of closers.reverse()) {
      try {
        await close();
      } catch (error) {
        logger.warn({ err: error }, 'error while stopping');
      }
    }
    closers.length = 0;
  };
  try {
    // Metrics only where /metrics can serve them; `status` does not load prom-client.
    const metricsModule = listen ? await import('./telemetry.ts') : null;
    const telemetry = metricsModule ? new metricsModule.Telemetry() : null;
    const opened: HistoryStore = config.storeUrl
      ? // Loaded only when asked for: the embedded default never pays for the driver.
        await (await import('./store/postgres-store.ts')).PostgresStore.open(config.storeUrl, {
          logger,
        })
      : SqliteStore.open(config.dbPath, { logger });
    const store =
      metricsModule && telemetry ? metricsModule.timeStoreWrites(opened, telemetry) : opened;
    closers.push(() => store.close());

    // The store and the engines forget the same sessions, so memory does not keep what history dropped.
    const hub = options.hub ?? new MemoryHub({ bus: new InProcessBus({ codec: wireCodec }) });
    const prices = loadPrices(config.agents?.pricesFile ?? null);
    // The machine local sessions run on, named as `livestream forward` names it by default.
    const host = safeHostName(hostname());
    const agents = new AgentsEngine({ hub, prices, host });
    let engines: Engines | null = null;
    const retain = async () => {
      const before = Date.now() - config.retentionDays * DAY_MS;
      // Engines first: lines still on their way to the store are dropped, not saved after the prune.
      const forgotten = engines?.sessions.prune(before) ?? [];
      engines?.metrics.forget(forgotten);
      agents.forget(before);
      const pruned = await store.prune(before);
      if (pruned.sessions > 0 || forgotten.length > 0) {
        logger.info(
          { sessions: pruned.sessions, forgotten: forgotten.length },
          'pruned old sessions',
        );
      }
    };
    // Retention runs before the engines restore, so memory never holds what history dropped.
    await retain();
    engines = await createEngines({
      hub,
      store,
      logger,
      host,
      ...(telemetry ? { telemetry } : {}),
      ...(config.tokenBudget === undefined ? {} : { tokenBudget: config.tokenBudget }),
    });
    const { logs, sessions, metrics, close: closeEngines, handlers } = engines;
    agents.phasesFrom(buildPhases(sessions));
    closers.push(closeEngines);
    const planPipeline = createPlansPipeline({ hub, logger });
    const plans = planPipeline.engine;
    closers.push(() => planPipeline.close());

    // Attention reads the hub's topics only; it starts before the watcher so it sees every change.
    // Alerts live beside the history, so replicas on one PostgreSQL share them.
    const alerts: AlertStore = store.alertStore();
    const attentionConfig = new AttentionConfig({
      file: config.attentionConfigPath ?? null,
      logger,
    });
    const attention = new AttentionEngine({
      hub,
      store: alerts,
      logger,
      thresholdsFor: (status) => attentionConfig.thresholdsFor(status),
    });
    closers.push(() => attention.close());
    let url: string | null = null;
    const notifier = new Notifier({
      store: alerts,
      channels: notificationChannels(config, logger),
      logger,
      dashboardUrl: () => url,
    });
    closers.push(() => notifier.close());
    attention.onRaised((alert) => {
      notifier
        .notify(alert)
        .catch((error: unknown) => logger.warn({ err: error }, 'notify failed'));
    });
    await attention.start();
    if (listen) notifier.start();

    const watcher = new RootWatcher({
      roots: config.roots,
      handlers: [...handlers, ...planPipeline.handlers],
      logger,
      ...(config.pollMs ? { pollMs: config.pollMs } : {}),
    });
    closers.push(() => watcher.stop());
    // Listening (below) does not wait for the scan: 20,000 folders take seconds to read.
    const scanned = watcher.start();
    scanned.catch(() => undefined); // Awaited below; a failure is thrown from there.

    const retention = setInterval(() => {
      retain().catch((error: unknown) => logger.warn({ err: error }, 'retention failed'));
    }, DAY_MS / 4);
    retention.unref();
    closers.push(() => clearInterval(retention));
    // Logs nobody writes or reads leave memory; a reader loads them back.
    const logSweep = setInterval(() => {
      logs.sweep((key) => hub.fanout.hasListeners(topic('logs', key)));
    }, LOG_SWEEP_MS);
    logSweep.unref();
    closers.push(() => clearInterval(logSweep));

    // Forwarded agent events wait for the checkpoint's restore (it replaces the book), then for their journal.
    let agentsJournal: ((entries: AgentInput[]) => Promise<void>) | null = null;
    let agentsStarted = () => {};
    const agentsReady = new Promise<void>((resolve) => {
      agentsStarted = resolve;
    });
    let server: FastifyInstance | null = null;
    let loginPath: string | null = null;
    const committed = busCommitted(hub);
    if (listen && telemetry) {
      // Loaded only to listen: `status` reads folders without paying for Fastify.
      const { buildServer } = await import('./server/server.ts');
      const built = await buildServer({
        config,
        logger,
        hub,
        logs,
        sessions,
        metrics,
        plans,
        agents,
        store,
        attention,
        alerts,
        notifier,
        telemetry,
        watcherStats: () => ({ ...watcher.stats, scan: watcher.progress() }),
        ...(committed ? { committed } : {}),
        forward: new ForwardIngest({
          // The batch's writes and its mark, in the store and on a shared bus's log.
          committed: async () => {
            await Promise.all([store.flush(), committed?.()]);
          },
          targets: {
            applySession: (event) => sessions.apply(event),
            applyMetrics: (event) => metrics.apply(event),
            applyPlan: (event) => plans.apply(event),
            planIds: () => plans.list().map((p) => p.id),
            applyAgent: (event, file) => agents.apply(event, file),
            resetAgentFile: (file) => agents.resetFile(file),
            agentsReady: () => agentsReady,
            journalAgents: (entries) => agentsJournal?.(entries) ?? Promise.resolve(),
          },
          marks: store,
          logger,
          tokens: config.forwarderTokensPath
            ? new ForwarderTokens(config.forwarderTokensPath, logger)
            : null,
        }),
      });
      server = built.app;
      loginPath = built.loginPath;
      closers.push(() => built.app.close());
      url = await built.listen();
      onListening?.(url, loginPath);
    }
    await scanned;
    await planPipeline.idle();
    // After the roots: a transcript's cost goes to the build phase its folder's session is in.
    // With --no-agents a server follows no transcripts of its own, yet keeps a checkpoint for the
    // agent sessions forwarders send it (with their journal: what they are acknowledged against).
    const agentConfig =
      config.agents ??
      (listen && (config.storeUrl || config.dbPath !== ':memory:')
        ? {
            claudeDirs: [],
            codexDirs: [],
            pricesFile: null,
            checkpointPath: `${config.dbPath}.agents.json`,
          }
        : null);
    try {
      if (agentConfig) {
        // PostgreSQL keeps it beside the history, for the replica that takes over; SQLite, in files.
        const path = agentConfig.checkpointPath;
        const agentState =
          store.agentState() ?? (path === null ? null : new FileAgentState(path, logger));
        const agentSources = await startAgentTranscripts({
          config: agentConfig,
          state: agentState,
          sink: agents,
          prices,
          logger,
          ...(config.pollMs ? { pollMs: config.pollMs } : {}),
        });
        agentsJournal = agentSources.journal;
        closers.push(() => agentSources.stop());
        // Transcripts older than the retention period were read once; they do not stay.
        agents.forget(Date.now() - config.retentionDays * DAY_MS);
      }
    } finally {
      agentsStarted();
    }
    return {
      hub,
      sessions,
      metrics,
      plans,
      attention,
      notifier,
      store,
      alerts,
      agents,
      telemetry,
      server,
      url,
      loginPath,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * What an acknowledgement waits for beyond the store's own commit (which the
 * write routes wait for through `store.flush()`): a shared bus's log, so a
 * replica killed right after answering has lost nothing it acknowledged.
 * Null on the in-process bus.
 */
function busCommitted(hub: MemoryHub): (() => Promise<void>) | null {
  const { bus } = hub;
  if (!bus.flush) return null;
  return async () => {
    try {
      await bus.flush?.();
    } catch (error) {
      if (!(error instanceof BusAwayError)) throw error;
      // 503 with Retry-After (see server/errors.ts): applied, not acknowledged; a resend is a no-op.
      throw Object.assign(
        new Error(
          `Received, but not acknowledged: ${error.message}. Send it again in a moment; a resend changes nothing.`,
        ),
        { statusCode: 503 },
      );
    }
  };
}

/** The channels `serve` was given; a desktop channel only where notify-send is installed. */
function notificationChannels(config: AppConfig, logger: Logger): Channel[] {
  const channels: Channel[] = (config.webhooks ?? []).map(
    (text) => new WebhookChannel(parseWebhookUrl(text)),
  );
  if (config.desktopNotify) {
    const desktop = DesktopChannel.detect();
    if (desktop) channels.push(desktop);
    else logger.info('desktop notifications off: notify-send is not installed');
  }
  return channels;
}
