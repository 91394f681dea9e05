import { after, before } from 'node:test';
import { type PostgresServer, type RedisServer, startPostgres, startRedis } from './services.ts';

/**
 * A throwaway PostgreSQL and Redis for the test file that calls this at its
 * top: started before its tests, stopped after them. Read `pg` and `redis`
 * inside the tests (they exist once `before` ran).
 */
export function scaleServices(): { readonly pg: PostgresServer; readonly redis: RedisServer } {
  let pg: PostgresServer | undefined;
  let redis: RedisServer | undefined;
  before(async () => {
    [pg, redis] = await Promise.all([startPostgres(), startRedis()]);
  });
  after(async () => {
    await redis?.close();
    await pg?.close();
  });
  const started = <T>(value: T | undefined, name: string): T => {
    if (value === undefined) throw new Error(`${name} is started before the tests, not at load`);
    return value;
  };
  return {
    get pg() {
      return started(pg, 'PostgreSQL');
    },
    get redis() {
      return started(redis, 'Redis');
    },
  };
}
