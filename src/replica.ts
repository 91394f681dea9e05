import type { Logger } from 'pino';
import { type App, createApp } from './app.ts';
import type { AppConfig } from './config.ts';
import { MemoryHub } from './hub/hub.ts';
import { type LostReason, RedisBus } from './hub/redis-bus.ts';
import { wireCodec } from './server/encode.ts';
import { buildFollowerServer } from './server/follower.ts';

/** What one `serve --bus` process is at a given moment. */
export type ReplicaRole = 'writer' | 'follower';

export interface Replica {
  /** Base URL once listening (the port stays the same across role changes). */
  readonly url: string;
  readonly role: ReplicaRole;
  /** The full app while this replica is the writer; null while it follows. */
  readonly app: App | null;
  readonly hub: MemoryHub;
  readonly bus: RedisBus;
  readonly loginPath: string | null;
  /** Resolves once the replica runs as `role` (after a promotion or a rebuild). */
  whenRole(role: ReplicaRole): Promise<void>;
  stop(): Promise<void>;
}

export interface ReplicaOptions {
  config: AppConfig;
  logger: Logger;
  /** `redis://…`; the query may set `lease_ms` and `prefix` (taken off before connecting). */
  busUrl: string;
}

interface Running {
  role: ReplicaRole;
  bus: RedisBus;
  hub: MemoryHub;
  app: App | null;
  url: string;
  loginPath: string | null;
  stop(): Promise<void>;
}

/**
 * `serve --bus redis://…`: one replica of several sharing a Redis bus (and a
 * PostgreSQL store). The replica holding the writer lease runs the whole app
 * (sources, engines, API); the others serve the dashboard and WebSockets from
 * their mirror and pass API requests to the writer.
 *
 * A follower that gets the lease (the writer died or stopped) becomes the
 * writer: its engines restore from the shared store and start from the
 * mirrored state. A replica whose bus falls out of step is rebuilt from Redis.
 * Both rebuild the server on the same port: its WebSocket clients reconnect
 * and resume (the replay log is shared, so nothing is missed or doubled).
 */
export async function startReplica(options: ReplicaOptions): Promise<Replica> {
  const { logger } = options;
  const { url: redisUrl, leaseMs, prefix } = parseBusUrl(options.busUrl);
  let config = options.config;
  let current: Running | null = null;
  let stopped = false;
  let changing: Promise<void> = Promise.resolve();
  const waiters = new Set<{ role: ReplicaRole; resolve: () => void }>();

  const settle = () => {
    for (const waiter of waiters) {
      if (current?.role === waiter.role) {
        waiters.delete(waiter);
        waiter.resolve();
      }
    }
  };

  const run = async (): Promise<Running> => {
    const bus = await RedisBus.open(redisUrl, {
      codec: wireCodec,
      logger,
      ...(leaseMs ? { leaseMs } : {}),
      ...(prefix ? { prefix } : {}),
    });
    const hub = new MemoryHub({ bus });
    // Read from Redis at open: the writer trusts its followers' requests, the followers show it.
    const shared = { ...config, replicaKey: bus.replicaKey };
    try {
      if (bus.isWriter) {
        const app = await createApp({ config: shared, logger, hub });
        const url = app.url ?? '';
        bus.advertise(url);
        return {
          role: 'writer',
          bus,
          hub,
          app,
          url,
          loginPath: app.loginPath,
          stop: async () => {
            await app.stop();
            hub.close();
            await bus.close();
          },
        };
      }
      const server = await buildFollowerServer({
        config: shared,
        logger,
        hub,
        writerUrl: () => bus.writerUrl,
        seq: () => bus.seq,
      });
      const url = await server.listen();
      bus.advertise(url);
      return {
        role: 'follower',
        bus,
        hub,
        app: null,
        url,
        loginPath: server.loginPath,
        stop: async () => {
          await server.app.close();
          hub.close();
          await bus.close();
        },
      };
    } catch (error) {
      hub.close();
      await bus.close();
      throw error;
    }
  };

  const rebuild = (why: string) => {
    changing = changing.then(async () => {
      if (stopped) return;
      logger.info({ why }, 'replica: rebuilding');
      const old = current;
      current = null;
      await old?.stop();
      // Keep trying: Redis may be restarting, the port just freed.
      for (let attempt = 0; !stopped; attempt++) {
        try {
          current = await run();
          break;
        } catch (error) {
          logger.warn({ err: error, attempt }, 'replica: could not start; retrying');
          await new Promise((resolve) => setTimeout(resolve, Math.min(2000, 100 * 2 ** attempt)));
        }
      }
      if (current) watch(current);
      settle();
    });
  };

  const watch = (running: Running) => {
    running.bus.onLost((reason: LostReason) => rebuild(`bus lost (${reason})`));
    if (running.role === 'follower') running.bus.onWriter(() => rebuild('took the writer lease'));
  };

  current = await run();
  // Rebuilt servers listen where the first did, so clients and load balancers find them.
  const port = Number(new URL(current.url).port);
  config = { ...config, port };
  watch(current);

  const now = (): Running => {
    if (!current) throw new Error('replica: rebuilding');
    return current;
  };
  return {
    get url() {
      return current?.url ?? '';
    },
    get role() {
      return now().role;
    },
    get app() {
      return now().app;
    },
    get hub() {
      return now().hub;
    },
    get bus() {
      return now().bus;
    },
    get loginPath() {
      return current?.loginPath ?? null;
    },
    whenRole: (role) =>
      new Promise<void>((resolve) => {
        waiters.add({ role, resolve });
        settle();
      }),
    stop: async () => {
      stopped = true;
      await changing;
      await current?.stop();
      current = null;
    },
  };
}

/** Splits the bus options (`?lease_ms=…&prefix=…`) from the Redis URL ioredis gets. */
export function parseBusUrl(text: string): {
  url: string;
  leaseMs: number | null;
  prefix: string | null;
} {
  const url = new URL(text);
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new Error(`--bus takes a Redis URL (redis://host:6379), not ${url.protocol}`);
  }
  const lease = url.searchParams.get('lease_ms');
  const prefix = url.searchParams.get('prefix');
  url.searchParams.delete('lease_ms');
  url.searchParams.delete('prefix');
  const leaseMs = lease === null ? null : Number(lease);
  if (leaseMs !== null && !(Number.isInteger(leaseMs) && leaseMs >= 300)) {
    throw new Error('--bus lease_ms must be a whole number of milliseconds, at least 300');
  }
  return { url: url.toString(), leaseMs, prefix };
}
