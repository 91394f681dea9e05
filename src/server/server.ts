import fastifyWebsocket from '@fastify/websocket';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { Logger } from 'pino';
import type { AppConfig } from '../config.ts';
import type { Hub } from '../hub/types.ts';
import type { ChannelTestResult } from '../notify/notifier.ts';
import { parseTopic, topic } from '../shared/topics.ts';
import type { AlertStore } from '../store/alert-store.ts';
import { registerProcessMetrics, type Telemetry } from '../telemetry.ts';
import {
  type ConnectionLimits,
  defaultConnectionLimits,
  installConnectionLimits,
} from './connections.ts';
import { installErrorHandler } from './errors.ts';
import type { ForwardIngest } from './forward-ingest.ts';
import { installJsonBodies } from './json-body.ts';
import { otlpRoutes } from './otlp.ts';
import type {
  HealthQuery,
  LogQueries,
  MetricsQueries,
  PlanQueries,
  ReplayGauge,
  ScanStatus,
  SessionQueries,
} from './queries.ts';
import { installRateLimit } from './rate-limit.ts';
import { type AgentQueries, agentRoutes } from './routes/agents.ts';
import { type AttentionQueries, attentionRoutes } from './routes/attention.ts';
import { FORWARD_PATH, forwardRoutes } from './routes/forward.ts';
import { metricsRoutes } from './routes/metrics.ts';
import { plansRoutes } from './routes/plans.ts';
import { type ReplaySources, replayFrame, replayRoutes } from './routes/replay.ts';
import { sessionRoutes } from './routes/sessions.ts';
import { installSecurity } from './security.ts';
import { staticRoutes } from './static.ts';
import { legacyRoutes } from './ws/legacy.ts';
import { protocolRoutes, websocketServerOptions, wsStats } from './ws/protocol.ts';

/** Everything the server reads and writes through: small interfaces, no engine or store class. */
export interface ServerDeps {
  config: AppConfig;
  logger: Logger;
  /** Live topics for the WebSocket endpoints, with the replay log's size for /metrics. */
  hub: Hub & ReplayGauge;
  logs: LogQueries;
  sessions: SessionQueries;
  metrics: MetricsQueries;
  plans: PlanQueries;
  /** Store health, and the stored history a replay rebuilds a moment from. */
  store: HealthQuery & ReplaySources['store'];
  attention: AttentionQueries;
  alerts: AlertStore;
  notifier: { test(): Promise<ChannelTestResult[]> };
  /** Coding-agent sessions; without it the agent routes are not served. */
  agents?: AgentQueries;
  telemetry: Telemetry;
  watcherStats: () => { events: number; errors: number; scan?: ScanStatus };
  /** Resolves once writes made so far are durable, when that takes more than a turn. */
  committed?: () => Promise<void>;
  /** `POST /api/forward` for `livestream forward`; absent: not served. */
  forward?: ForwardIngest;
}

/** Largest HTTP body accepted (phase documents are a few KB). */
export const BODY_LIMIT = 1024 * 1024;

/**
 * The Fastify instance every server starts from, the writer's and a follower's
 * alike: body and id limits, JSON errors, connection caps and idle timeouts.
 */
export function createFastify(config: AppConfig, logger: Logger): FastifyInstance {
  const app: FastifyInstance = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // Per-request lines would drown the log of a dashboard polled all day.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT,
    // Fastify's default (100) answered ids of 101-200 characters, which a push
    // accepts, with its own 414 shape; the routes' schemas decide instead.
    routerOptions: { maxParamLength: 16 * 1024 },
    return503OnClosing: true,
    forceCloseConnections: true,
  });
  installErrorHandler(app);
  installConnectionLimits(app, withDefaults(config.connections));
  return app;
}

/** Builds the HTTP + WebSocket server; `listen()` resolves with its base URL. */
export async function buildServer(deps: ServerDeps) {
  const { config, hub } = deps;
  const app = createFastify(config, deps.logger);
  installJsonBodies(app);
  const loginPath = await installSecurity(app, {
    token: config.token,
    allowedOrigins: config.allowedOrigins,
    insecure: config.insecure === true,
    ...(deps.forward?.tokens ? { ownToken: (path: string) => path === FORWARD_PATH } : {}),
  });

  await installRateLimit(app, { replicaKey: config.replicaKey ?? null });

  const pushes = deps.telemetry.counter(
    'livestream_updates_received_total',
    'Phase updates received',
  );
  deps.telemetry.gauge(
    'livestream_sessions',
    'Sessions by state',
    () => {
      const counts = { active: 0, completed: 0, failed: 0 };
      for (const s of deps.sessions.list()) counts[s.state]++;
      return Object.entries(counts).map(([state, value]) => ({ labels: { state }, value }));
    },
    ['state'],
  );
  deps.telemetry.gauge('livestream_websocket_clients', 'Connected WebSocket clients', () => [
    { value: wsStats.clients },
  ]);
  deps.telemetry.gauge('livestream_ws_bytes_sent_total', 'Bytes sent on WebSockets', () => [
    { value: wsStats.bytesSent },
  ]);
  deps.telemetry.gauge('livestream_ws_messages_sent_total', 'Messages sent on WebSockets', () => [
    { value: wsStats.messagesSent },
  ]);
  deps.telemetry.gauge(
    'livestream_replay_buffer_bytes',
    'Encoded deltas the hub keeps for resuming clients (bounded; outside the V8 heap)',
    () => [{ value: hub.replayStats.bytes }],
  );
  if (hub.queueStats) {
    // A shared bus's writer: what waits for Redis, bounded (see docs/scale-out.md).
    const gauges = [
      ['queued_deltas', 'deltas', 'Appends sent to the shared bus and not yet acknowledged'],
      [
        'queued_bytes',
        'bytes',
        'Bytes of the appends sent to the shared bus and not yet acknowledged',
      ],
      [
        'out_of_step_topics',
        'outOfStep',
        'Topics whose changes were kept out of a full queue: sent whole once the bus takes appends again',
      ],
      [
        'kept_out_total',
        'keptOut',
        'Deltas not queued for the shared bus because its queue was full',
      ],
    ] as const;
    for (const [name, field, help] of gauges) {
      deps.telemetry.gauge(`livestream_bus_${name}`, help, () => [
        { value: hub.queueStats?.[field] ?? 0 },
      ]);
    }
  }
  const stopProcessMetrics = registerProcessMetrics(deps.telemetry);
  app.addHook('onClose', async () => stopProcessMetrics());
  deps.telemetry.gauge('livestream_watcher_events_total', 'File events seen', () => [
    { value: deps.watcherStats().events },
  ]);

  await app.register(fastifyWebsocket, { options: websocketServerOptions });
  const replay: ReplaySources = {
    session: (id) => deps.sessions.get(id) ?? null,
    costUsd: (id) => {
      const usage = hub.get(topic('metrics', id))?.data as
        | { token_usage?: { data?: { costUsd?: unknown } | null } }
        | undefined;
      const cost = usage?.token_usage?.data?.costUsd;
      return typeof cost === 'number' ? cost : null;
    },
    store: deps.store,
    alerts: deps.alerts,
  };
  await app.register(replayRoutes, { sources: replay });
  await app.register(sessionRoutes, {
    replay: (id, at, size) => replayFrame(replay, id, at, size),
    sessions: deps.sessions,
    logs: deps.logs,
    store: deps.store,
    connections: () => wsStats.clients,
    onPush: () => pushes.inc(),
    scan: () => deps.watcherStats().scan ?? null,
    ...(deps.committed ? { committed: deps.committed } : {}),
  });
  await app.register(metricsRoutes, {
    metrics: deps.metrics,
    sessions: deps.sessions,
    telemetry: deps.telemetry,
    store: deps.store,
    ...(deps.committed ? { committed: deps.committed } : {}),
  });
  await app.register(plansRoutes, { plans: deps.plans });
  await app.register(attentionRoutes, {
    attention: deps.attention,
    store: deps.alerts,
    notifier: deps.notifier,
  });
  if (deps.forward) {
    await app.register(forwardRoutes, { ingest: deps.forward, telemetry: deps.telemetry });
  }
  if (deps.agents) {
    await app.register(agentRoutes, { agents: deps.agents, telemetry: deps.telemetry });
    await app.register(otlpRoutes, {
      agents: deps.agents,
      telemetry: deps.telemetry,
      bodyLimit: BODY_LIMIT,
    });
  }
  await app.register(protocolRoutes, {
    hub,
    allowedOrigins: config.allowedOrigins,
    logger: deps.logger,
    warm: (names) => warmLogs(deps.logs, names),
  });
  await app.register(legacyRoutes, {
    hub,
    allowedOrigins: config.allowedOrigins,
    lastLogLine: (id) => deps.logs.head(id),
  });
  await app.register(staticRoutes, { webDir: config.webDir });

  const listen = async (): Promise<string> => {
    await app.listen({ port: config.port, host: config.host });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    return `http://${host}:${port}`;
  };
  return { app, loginPath, listen };
}

/** Loads the logs of the `logs:<key>` topics among `names` that are not in memory. */
function warmLogs(logs: Pick<LogQueries, 'warm'>, names: readonly string[]): Promise<void> | null {
  const loads: Promise<void>[] = [];
  for (const name of names) {
    const parsed = parseTopic(name);
    if (parsed?.kind !== 'logs' || parsed.id === null) continue;
    const loading = logs.warm(parsed.id);
    if (loading) loads.push(loading);
  }
  return loads.length > 0 ? Promise.all(loads).then(() => undefined) : null;
}

/** The configured connection limits, the defaults for those not given. */
function withDefaults(given: AppConfig['connections']): ConnectionLimits {
  const defaults = defaultConnectionLimits();
  const maxTotal = given?.maxTotal ?? defaults.maxTotal;
  return {
    maxTotal,
    maxPerAddress: given?.maxPerAddress ?? Math.min(defaults.maxPerAddress, maxTotal),
    idleMs: given?.idleMs ?? defaults.idleMs,
  };
}
