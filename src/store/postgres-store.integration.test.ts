import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pgDriver from 'pg';
import { type PostgresServer, startPostgres } from '../../test/helpers/services.ts';
import { captureLogger, session } from '../../test/helpers/store.ts';
import { PG_MIGRATIONS } from './postgres-migrations.ts';
import { PostgresStore } from './postgres-store.ts';
import { inlineTransaction } from './postgres-transaction.ts';

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

  it('an inlined transaction writes every value exactly as parameters would', async () => {
    const { store, url } = await fresh();
    await store.close();
    const client = new pgDriver.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(
        'CREATE TABLE inline_t (a text, b jsonb, c bigint[], d text[], e bytea, f boolean, g double precision)',
      );
      const rows = AWKWARD.map((text, i) => [
        text,
        JSON.stringify({ text }),
        [i, -i, 2 ** 40],
        [text, null, 'x'],
        Buffer.from(text),
        i % 2 === 0,
        i / 3,
      ]);
      const insert =
        'INSERT INTO inline_t VALUES ($1, $2::jsonb, $3::bigint[], $4::text[], $5, $6, $7)';
      const whole = inlineTransaction(rows.map((values) => ({ text: insert, values })));
      assert.ok(whole !== null);
      await client.query(whole);
      const back = (await client.query('SELECT * FROM inline_t ORDER BY g')).rows;
      assert.deepEqual(
        back.map((r) => [r.a, r.b, r.c, r.d, Buffer.from(r.e).toString(), r.f, r.g]),
        rows.map((r) => [
          r[0],
          { text: r[0] },
          (r[2] as number[]).map(String),
          r[3],
          r[0],
          r[5],
          r[6],
        ]),
      );
    } finally {
      await client.end();
    }
  });

  it('awkward text survives the store both ways; a NUL is dropped alone', async () => {
    const { store } = await fresh();
    try {
      // One turn: written as one inlined transaction.
      await Promise.all(
        AWKWARD.flatMap((text, i) => [
          store.saveSession(session(`k${i}`, { currentPhase: text, changedAt: i + 1 }), { text }),
          store.saveLogLines(`k${i}`, [{ n: 1, at: i, level: 'info', text }]),
        ]),
      );
      for (const [i, text] of AWKWARD.entries()) {
        const stored = await store.getSession(`k${i}`);
        assert.equal(stored?.status.currentPhase, text);
        assert.deepEqual(stored?.document, { text });
        assert.deepEqual(
          (await store.logLines(`k${i}`)).map((l) => l.text),
          [text],
        );
      }
      // PostgreSQL's text refuses a NUL: that write is dropped, the rest of its turn is kept.
      await Promise.all([
        store.saveLogLines('nul', [{ n: 1, at: 1, level: 'info', text: 'a\u0000b' }]),
        store.saveLogLines('after-nul', [{ n: 1, at: 1, level: 'info', text: 'kept' }]),
      ]);
      assert.deepEqual(
        (await store.logLines('after-nul')).map((l) => l.text),
        ['kept'],
      );
      assert.deepEqual(await store.logLines('nul'), []);
      assert.equal(store.health().writable, true);
    } finally {
      await store.close();
    }
  });
});

const AWKWARD = [
  "it's",
  "back\\slash \\x00 and \\'",
  '$1 $2 placeholders in data',
  '"; DROP TABLE sessions; --',
  "'); DROP TABLE sessions; --",
  'é ü 日本 🚀',
  '{"json": "looking"}',
  '',
];
