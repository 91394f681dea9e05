import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { claudeAssistant, claudePrompt } from '../../test/helpers/agent-transcripts.ts';
import { waitFor } from '../../test/helpers/server.ts';
import { type PostgresServer, startPostgres } from '../../test/helpers/services.ts';
import { tempDir } from '../../test/helpers/store.ts';
import { AgentBook } from '../core/agents/book.ts';
import { parseClaudeLine } from '../core/agents/claude.ts';
import type { AgentEvent, AgentInput } from '../core/agents/events.ts';
import { DEFAULT_PRICES } from '../core/agents/prices.ts';
import { toSnapshot } from '../core/agents/snapshot.ts';
import { createLogger } from '../logger.ts';
import { FileAgentState } from '../sources/agents/file-state.ts';
import { PostgresStore } from './postgres-store.ts';
import type { AgentStateStore, TailOffset } from './types.ts';

/**
 * One contract, both agent state stores: what the agents engine relies on to
 * restart (or a promoted writer replica to take over) without losing or
 * re-counting an agent session holds in files beside SQLite and in
 * PostgreSQL alike.
 */
const logger = createLogger({ level: 'silent' });
const T0 = Date.parse('2026-12-01T09:00:00Z');

/** A place the state lives (a folder, a database) and a fresh process's view of it. */
interface Place {
  open(): Promise<AgentStateStore>;
}

function feed(book: AgentBook, id: string, n: number, usage = { input: 10, output: 5 }): void {
  for (const v of [
    claudePrompt({ sessionId: id, at: T0 + n }, `prompt ${n}`),
    claudeAssistant(
      { sessionId: id, at: T0 + n + 1 },
      { messageId: `m-${id}-${n}`, requestId: `r-${id}-${n}`, usage },
    ),
  ]) {
    const { events } = parseClaudeLine(v, { sessionId: id, agentId: null, now: T0 });
    for (const e of events) book.apply(e, `/p/${id}.jsonl`);
  }
}

const prompt = (text: string): AgentEvent => ({
  agent: 'claude',
  sessionId: 's@ci-1',
  agentId: null,
  at: T0,
  source: 'transcript',
  type: 'prompt',
  text,
});
const texts = (entries: AgentInput[]) =>
  entries.map((e) => ('reset' in e ? `reset ${e.reset}` : (e.event as { text: string }).text));
const snapshot = (book: AgentBook) => JSON.parse(JSON.stringify(toSnapshot(book)));
const OFFSETS: TailOffset[] = [{ path: '/p/s-one.jsonl', offset: 120, ino: 7, size: 120 }];

function contract(name: string, place: () => Promise<Place>, cleanup: () => Promise<void>) {
  describe(`${name} agent state`, () => {
    after(cleanup);

    it('starts empty: no checkpoint, nothing to replay', async () => {
      const state = await (await place()).open();
      assert.equal(await state.load(DEFAULT_PRICES), null);
      assert.deepEqual(await state.replay(-1), []);
      await state.close();
    });

    it('a checkpoint restores the book, its offsets and the generation it covers; changes and removals are saved', async () => {
      const where = await place();
      const state = await where.open();
      await state.load(DEFAULT_PRICES);
      await state.replay(-1);
      const book = new AgentBook(DEFAULT_PRICES);
      for (const id of ['s-one', 's-two', 's-three']) feed(book, id, 1);
      assert.equal(await state.save(book, OFFSETS, state.rotate()), true);
      // One session moves, one is taken back, one is forgotten (retention); another arrives.
      feed(book, 's-two', 5, { input: 99, output: 7 });
      book.resetFile('/p/s-three.jsonl');
      book.sessions.delete('s-one');
      feed(book, 's-four', 9);
      const covered = state.rotate();
      assert.equal(await state.save(book, OFFSETS, covered), true);
      await state.close();

      const restarted = await where.open();
      const saved = await restarted.load(DEFAULT_PRICES);
      assert.ok(saved);
      assert.deepEqual(snapshot(saved.book), snapshot(book));
      assert.deepEqual(saved.offsets, OFFSETS);
      assert.equal(saved.journal, covered);
      assert.equal(saved.book.sessions.get('s-two')?.totals().responses, 2);
      assert.equal(saved.book.sessions.has('s-one'), false);
      // The restored book saved again (its sessions are new objects) and read back: the same.
      await restarted.replay(saved.journal);
      assert.equal(await restarted.save(saved.book, [], restarted.rotate()), true);
      await restarted.close();
      const again = await (await where.open()).load(DEFAULT_PRICES);
      assert.deepEqual(snapshot(again?.book as AgentBook), snapshot(book));
    });

    it('the journal replays only what the last checkpoint does not cover, in order, once', async () => {
      const where = await place();
      const state = await where.open();
      await state.load(DEFAULT_PRICES);
      assert.deepEqual(await state.replay(-1), []);
      await state.append([{ file: '/@ci-1/a.jsonl', event: prompt('one') }]);
      // A checkpoint captures here: it covers `one`; `two` and the reset come after it.
      const covered = state.rotate();
      await state.append([
        { file: '/@ci-1/a.jsonl', event: prompt('two') },
        { reset: '/@ci-1/b.jsonl' },
      ]);
      // Crashed before the checkpoint was written: it says nothing is covered, both replay.
      const crashed = await where.open();
      assert.deepEqual(texts(await crashed.replay(-1)), ['one', 'two', 'reset /@ci-1/b.jsonl']);
      await crashed.close();

      const book = new AgentBook(DEFAULT_PRICES);
      assert.equal(await state.save(book, [], covered), true);
      await state.close();
      const restarted = await where.open();
      const saved = await restarted.load(DEFAULT_PRICES);
      assert.equal(saved?.journal, covered);
      assert.deepEqual(texts(await restarted.replay(covered)), ['two', 'reset /@ci-1/b.jsonl']);
      // Later appends go past what was replayed; what the next checkpoint covers goes.
      await restarted.append([{ file: null, event: prompt('three') }]);
      assert.deepEqual(texts(await (await where.open()).replay(covered)), [
        'two',
        'reset /@ci-1/b.jsonl',
        'three',
      ]);
      const next = restarted.rotate();
      assert.equal(await restarted.save(book, [], next), true);
      await restarted.close();
      assert.deepEqual(await (await where.open()).replay(next), []);
      assert.deepEqual(await (await where.open()).replay(-1), [], 'covered generations dropped');
    });

    it('appends made together are all durable, in the order they were made', async () => {
      const where = await place();
      const state = await where.open();
      await state.load(DEFAULT_PRICES);
      await state.replay(-1);
      const all = Array.from({ length: 200 }, (_, i) => [
        { file: '/@ci-1/a.jsonl', event: prompt(`p${i}`) },
      ]);
      await Promise.all(
        all.map((entries, i) => {
          if (i === 100) state.rotate();
          return state.append(entries);
        }),
      );
      await state.close();
      assert.deepEqual(
        texts(await (await where.open()).replay(-1)),
        all.map((_, i) => `p${i}`),
      );
    });
  });
}

const files = tempDir();
let dirs = 0;
contract(
  'files',
  async () => {
    const path = join(files.dir, `h${++dirs}.db.agents.json`);
    return { open: async () => new FileAgentState(path, logger) };
  },
  async () => files.cleanup(),
);

let pg: PostgresServer | null = null;
const stores: PostgresStore[] = [];
let databases = 0;
before(async () => {
  pg = await startPostgres();
});
async function database(): Promise<string> {
  const server = pg as PostgresServer;
  const name = `agents${++databases}`;
  await server.psql(`CREATE DATABASE ${name}`);
  return server.url.replace(/\/postgres$/, `/${name}`);
}
async function openPg(url: string): Promise<AgentStateStore> {
  const store = await PostgresStore.open(url, { logger, retryInitialMs: 50, retryMaxMs: 200 });
  stores.push(store);
  return store.agentState();
}
contract(
  'PostgreSQL',
  async () => {
    const url = await database();
    return { open: () => openPg(url) };
  },
  async () => undefined,
);
after(async () => {
  for (const s of stores) await s.close();
  await pg?.close();
});

describe('PostgreSQL agent state only', () => {
  it('a save rewrites only the sessions that changed', async () => {
    const url = await database();
    const state = await openPg(url);
    await state.load(DEFAULT_PRICES);
    await state.replay(-1);
    const book = new AgentBook(DEFAULT_PRICES);
    for (const id of ['s-one', 's-two', 's-three']) feed(book, id, 1);
    await state.save(book, [], state.rotate());
    const name = url.slice(url.lastIndexOf('/') + 1);
    // xmin is the transaction that wrote a row's version: unchanged rows keep theirs.
    const rows = async () =>
      new Map(
        (await (pg as PostgresServer).psql('SELECT id, xmin FROM agent_sessions', name))
          .split('\n')
          .map((line) => line.split('|') as [string, string]),
      );
    const before = await rows();
    feed(book, 's-two', 5);
    await state.save(book, [], state.rotate());
    const after = await rows();
    assert.equal(after.get('s-one'), before.get('s-one'));
    assert.equal(after.get('s-three'), before.get('s-three'));
    assert.notEqual(after.get('s-two'), before.get('s-two'));
  });

  it('a writer that took over fences the one before: its saves and appends are refused', async () => {
    const url = await database();
    const old = await openPg(url);
    await old.load(DEFAULT_PRICES);
    await old.replay(-1);
    const book = new AgentBook(DEFAULT_PRICES);
    feed(book, 's-one', 1);
    await old.append([{ file: null, event: prompt('acknowledged by the old writer') }]);
    assert.equal(await old.save(book, [], old.rotate()), true);
    await old.append([{ file: null, event: prompt('after its checkpoint') }]);

    const promoted = await openPg(url);
    const saved = await promoted.load(DEFAULT_PRICES);
    assert.equal(saved?.book.sessions.get('s-one')?.totals().responses, 1);
    assert.deepEqual(texts(await promoted.replay(saved?.journal ?? -1)), ['after its checkpoint']);
    // The old writer lost its lease but still runs: nothing it writes lands.
    feed(book, 's-stale', 3);
    assert.equal(await old.save(book, [], old.rotate()), false);
    await assert.rejects(
      old.append([{ file: null, event: prompt('stale') }]),
      /another process took over/,
    );
    await promoted.append([{ file: null, event: prompt('new writer') }]);
    assert.deepEqual(texts(await (await openPg(url)).replay(saved?.journal ?? -1)), [
      'after its checkpoint',
      'new writer',
    ]);
    const restored = await (await openPg(url)).load(DEFAULT_PRICES);
    assert.equal(restored?.book.sessions.has('s-stale'), false);
  });

  // Last: it stops the server the other cases use.
  it('PostgreSQL away: appends are acknowledged from memory, then committed in order', async () => {
    const server = pg as PostgresServer;
    const url = await database();
    const state = await openPg(url);
    await state.load(DEFAULT_PRICES);
    await state.replay(-1);
    await state.append([{ file: null, event: prompt('before') }]);
    await server.stop();
    try {
      await state.append([{ file: null, event: prompt('away 1') }]);
      state.rotate();
      await state.append([{ file: null, event: prompt('away 2') }]);
      assert.equal(await state.save(new AgentBook(DEFAULT_PRICES), [], 5), false);
    } finally {
      await server.start();
    }
    await state.append([{ file: null, event: prompt('back') }]);
    // Committed once the retry finds the server back, in the order acknowledged.
    const reader = await openPg(url);
    const replayed = await waitFor(
      async () => {
        const entries = texts(await reader.replay(-1));
        return entries.length === 4 ? entries : undefined;
      },
      10_000,
      'the kept entries committed',
    );
    assert.deepEqual(replayed, ['before', 'away 1', 'away 2', 'back']);
  });
});
