import fastifyWebsocket from '@fastify/websocket';
import type { Logger } from 'pino';
import type { AppConfig } from '../config.ts';
import type { Hub } from '../hub/types.ts';
import { REPLICA_HEADER } from '../shared/forward.ts';
import { PROMETHEUS_CONTENT_TYPE, registerProcessMetrics, Telemetry } from '../telemetry.ts';
import { sendError } from './errors.ts';
import { installRateLimit } from './rate-limit.ts';
import { FORWARD_PATH } from './routes/forward.ts';
import { installSecurity } from './security.ts';
import { createFastify } from './server.ts';
import { staticRoutes } from './static.ts';
import { legacyRoutes } from './ws/legacy.ts';
import { protocolRoutes, websocketServerOptions, wsStats } from './ws/protocol.ts';

export interface FollowerDeps {
  config: AppConfig;
  logger: Logger;
  /** The hub mirroring the writer through the shared bus. */
  hub: Hub;
  /** Where the writer replica listens now (null while no replica holds the lease). */
  writerUrl: () => string | null;
  seq: () => number;
}

/** Request headers that describe this hop, not the request: not sent on. */
const HOP_HEADERS = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
  'origin',
  'cookie',
  'authorization',
]);

/**
 * A replica that does not hold the writer lease: it serves the dashboard and
 * both WebSocket endpoints from its mirror of the shared bus (the part that
 * grows with clients), and sends every other API request, reads and writes,
 * on to the writer, whose engines hold the derived state. Its own checks
 * (Host, Origin, token, rate limit) run first, as on any server; the writer
 * is then asked with the shared token.
 */
export async function buildFollowerServer(deps: FollowerDeps) {
  const { config, hub } = deps;
  // The same limits as the writer's server, connection caps and idle timeouts included.
  const app = createFastify(config, deps.logger);
  const loginPath = await installSecurity(app, {
    token: config.token,
    allowedOrigins: config.allowedOrigins,
    insecure: config.insecure === true,
    // Forwarder tokens are the writer's to check: the request goes on with its own.
    ...(config.forwarderTokensPath ? { ownToken: (path: string) => path === FORWARD_PATH } : {}),
  });
  await installRateLimit(app);
  await app.register(fastifyWebsocket, { options: websocketServerOptions });
  await app.register(protocolRoutes, {
    hub,
    allowedOrigins: config.allowedOrigins,
    logger: deps.logger,
  });
  await app.register(legacyRoutes, { hub, allowedOrigins: config.allowedOrigins });

  // This replica's own figures: its clients and its process (the writer's /metrics has the rest).
  const telemetry = new Telemetry();
  telemetry.gauge('livestream_websocket_clients', 'Connected WebSocket clients', () => [
    { value: wsStats.clients },
  ]);
  telemetry.gauge('livestream_ws_bytes_sent_total', 'Bytes sent on WebSockets', () => [
    { value: wsStats.bytesSent },
  ]);
  telemetry.gauge('livestream_bus_seq', 'Seq of the newest delta this replica mirrored', () => [
    { value: deps.seq() },
  ]);
  const stopProcessMetrics = registerProcessMetrics(telemetry);
  app.addHook('onClose', async () => stopProcessMetrics());
  app.get('/metrics', async (_request, reply) => {
    reply.type(PROMETHEUS_CONTENT_TYPE);
    return telemetry.render();
  });

  // This replica's own health, for a load balancer: it serves clients without a writer too.
  app.get('/api/replica', async () => ({
    role: 'follower',
    seq: deps.seq(),
    writer: deps.writerUrl() !== null,
  }));

  await app.register(async (proxy) => {
    // Bodies go on as they came: no parsing here, the writer checks them.
    proxy.removeAllContentTypeParsers();
    proxy.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
    proxy.all('/api/*', async (request, reply) => {
      const writer = deps.writerUrl();
      if (writer === null) {
        reply.header('retry-after', '1');
        return sendError(reply, 503, 'no_writer', 'No replica holds the writer lease yet; retry.');
      }
      const headers = new Headers();
      for (const [name, value] of Object.entries(request.headers)) {
        if (HOP_HEADERS.has(name) || value === undefined) continue;
        headers.set(name, Array.isArray(value) ? value.join(', ') : value);
      }
      if (config.replicaKey) headers.set(REPLICA_HEADER, config.replicaKey);
      const own = config.forwarderTokensPath && request.url.split('?')[0] === FORWARD_PATH;
      if (own && request.headers.authorization) {
        headers.set('authorization', request.headers.authorization);
      } else if (config.token) {
        headers.set('authorization', `Bearer ${config.token}`);
      }
      const hasBody = request.method !== 'GET' && request.method !== 'HEAD';
      let answer: Response;
      try {
        answer = await fetch(`${writer}${request.url}`, {
          method: request.method,
          headers,
          ...(hasBody ? { body: request.body as ReadableStream, duplex: 'half' } : {}),
          signal: AbortSignal.timeout(30_000),
        } as RequestInit);
      } catch (error) {
        deps.logger.warn({ err: error }, 'follower: the writer did not answer');
        reply.header('retry-after', '1');
        return sendError(
          reply,
          503,
          'writer_unavailable',
          'The writer replica did not answer; retry.',
        );
      }
      reply.code(answer.status);
      for (const [name, value] of answer.headers) {
        if (name === 'content-length' || name === 'transfer-encoding' || name === 'connection')
          continue;
        if (name === 'content-encoding') continue;
        reply.header(name, value);
      }
      return reply.send(Buffer.from(await answer.arrayBuffer()));
    });
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
