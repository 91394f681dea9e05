import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type PostgresServer, startPostgres } from '../../test/helpers/services.ts';
import { captureLogger, session } from '../../test/helpers/store.ts';
import { PG_MIGRATIONS } from './postgres-migrations.ts';
import { PostgresStore } from './postgres-store.ts';

let pg: PostgresServer;
let databases = 0;

before(async () => {
  pg = await startPostgres();
});
after(async () => {
  await pg.close();
});

/** A store on a fresh database of the throwaway server. */
async function fresh(opts: Parameters<typeof PostgresStore.open>[1] = {}) {
  const name = `t${++databases}`;
  await pg.psql(`CREATE DATABASE ${name}`);
  const url = pg.url.replace(/\/postgres$/, `/${name}`);
  const { logger, lines } = captureLogger();
  const store = await PostgresStore.open(url, { logger, ...opts });
  return { store, url, lines, name };
}

describe('PostgresStore', () => {
  it('replicas starting together migrate once; a newer schema is refused', async () => {
    const { store, url, name } = await fresh();
    await store.close();
    const { logger } = captureLogger();
    const both = await Promise.all([
      PostgresStore.open(url, { logger }),
      PostgresStore.open(url, { logger }),
    ]);
    for (const s of both) await s.close();
    assert.equal(
      Number(await pg.psql('SELECT count(*) FROM livestream_schema', name)),
      PG_MIGRATIONS.length,
    );
    await pg.psql('INSERT INTO livestream_schema VALUES (999)', name);
    await assert.rejects(PostgresStore.open(url, { logger }), /schema version 999/);
  });

  it('keeps writes while PostgreSQL is stopped and replays them in order when it is back', async () => {
    const { store } = await fresh({ retryInitialMs: 50, retryMaxMs: 200 });
    try {
      await store.saveSession(session('s', { changedAt: 1 }), { v: 0 });
      await pg.stop();
      for (let i = 1; i <= 50; i++) {
        await store.saveSession(session('s', { changedAt: 1 + i }), { v: i });
        await store.saveLogLines('s', [{ n: i, at: i, level: 'info', text: `line ${i}` }]);
      }
      assert.equal(store.health().writable, false);
      assert.ok(store.health().pending >= 51, 'upserts collapse, appends are all kept');
      const healthy = new Promise<void>((resolve) => {
        const off = store.onHealthChange((h) => {
          if (h.writable) {
            off();
            resolve();
          }
        });
      });
      await pg.start();
      await healthy;
      assert.deepEqual((await store.getSession('s'))?.document, { v: 50 });
      assert.deepEqual(
        (await store.logLines('s')).map((l) => l.n),
        Array.from({ length: 50 }, (_, i) => i + 1),
      );
      assert.equal(store.health().pending, 0);
    } finally {
      await store.close();
    }
  });
});
