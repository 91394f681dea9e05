import assert from 'node:assert/strict';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { captureLogger, session, tempDir } from '../../test/helpers/store.ts';
import type { PhaseTransition } from '../shared/model.ts';
import { SqliteStore } from './sqlite-store.ts';

function transition(sessionKey: string, to: string, at: number): PhaseTransition {
  return { sessionKey, from: null, to, at, phaseNumber: null, status: 'in_progress' };
}

describe('SqliteStore.transitionsSince', () => {
  let tmp: ReturnType<typeof tempDir>;
  let store: SqliteStore;

  beforeEach(() => {
    tmp = tempDir();
    store = SqliteStore.open(join(tmp.dir, 'history.db'), { logger: captureLogger().logger });
  });
  afterEach(async () => {
    await store.close();
    tmp.cleanup();
  });

  it('reads what was stored after an id, of every session or of one, oldest id first', async () => {
    assert.deepEqual(await store.transitionsSince(0), { transitions: [], lastId: 0, deletions: 0 });
    await store.saveSession(session('a'), {});
    await store.saveSession(session('b'), {});
    // Times out of order: the ids still follow the inserts.
    await store.addTransition(transition('a', 'Scout', 5_000));
    await store.addTransition(transition('b', 'Scout', 1_000));
    await store.addTransition(transition('a', 'Builder', 2_000));
    const all = await store.transitionsSince(0);
    assert.deepEqual(
      all.transitions.map((t) => [t.sessionKey, t.to, t.at]),
      [
        ['a', 'Scout', 5_000],
        ['b', 'Scout', 1_000],
        ['a', 'Builder', 2_000],
      ],
    );
    const ids = all.transitions.map((t) => t.id);
    assert.deepEqual(
      ids,
      [...ids].sort((x, y) => x - y),
    );
    assert.equal(all.lastId, ids.at(-1));
    // The rows are the same as `transitions` gives, with their id.
    const { id: _, ...plain } = all.transitions[0] as PhaseTransition & { id: number };
    assert.deepEqual(
      plain,
      (await store.transitions('a')).find((t) => t.to === 'Scout'),
    );

    const first = ids[0] as number;
    const after = await store.transitionsSince(first);
    assert.deepEqual(
      after.transitions.map((t) => t.id),
      ids.slice(1),
    );
    const ofA = await store.transitionsSince(0, 'a');
    assert.deepEqual(
      ofA.transitions.map((t) => t.to),
      ['Scout', 'Builder'],
    );
    // `lastId` is the store's, not the session's.
    assert.equal(ofA.lastId, all.lastId);
    assert.deepEqual(
      (await store.transitionsSince(first, 'a')).transitions.map((t) => t.to),
      ['Builder'],
    );
    assert.deepEqual((await store.transitionsSince(all.lastId)).transitions, []);
    assert.deepEqual((await store.transitionsSince(0, 'nobody')).transitions, []);

    // A duplicate (same session, time and phase) is not stored, so not read.
    await store.addTransition({ ...transition('b', 'Scout', 1_000), status: 'again' });
    assert.deepEqual((await store.transitionsSince(all.lastId)).transitions, []);

    // Odd arguments read from the start rather than throw.
    assert.equal((await store.transitionsSince(Number.NaN)).transitions.length, 3);
    assert.equal((await store.transitionsSince(-5)).transitions.length, 3);
  });

  it('counts the prunes that deleted transitions: ids of deleted rows are reused', async () => {
    await store.saveSession(session('old', { changedAt: 10, state: 'completed' }), {});
    await store.saveSession(session('live', { changedAt: 1_000_000 }), {});
    await store.addTransition(transition('live', 'Scout', 1));
    await store.addTransition(transition('old', 'Scout', 2));
    await store.addTransition(transition('old', 'Test', 3));
    const before = await store.transitionsSince(0);
    assert.equal(before.deletions, 0);

    // Nothing old enough: nothing deleted, nothing counted.
    await store.prune(5);
    assert.equal((await store.transitionsSince(0)).deletions, 0);

    await store.prune(100);
    const pruned = await store.transitionsSince(0);
    assert.equal(pruned.deletions, 1);
    assert.deepEqual(
      pruned.transitions.map((t) => t.sessionKey),
      ['live'],
    );
    assert.ok(pruned.lastId < before.lastId);
    // The next row takes an id a reader of `before` has already gone past.
    await store.addTransition(transition('live', 'Test', 4));
    const next = await store.transitionsSince(pruned.lastId);
    assert.equal(next.transitions.length, 1);
    assert.ok((next.transitions[0]?.id ?? 0) <= before.lastId);
    assert.equal(next.deletions, 1);
  });

  it('skips a corrupt row, as `transitions` does', async () => {
    await store.saveSession(session('a'), {});
    await store.addTransition(transition('a', 'Scout', 1));
    await store.addTransition(transition('a', 'Test', 2));
    store.flush();
    store.database.exec("UPDATE transitions SET at = 'soon' WHERE to_phase = 'Scout'");
    const read = await store.transitionsSince(0, 'a');
    assert.deepEqual(
      read.transitions.map((t) => t.to),
      ['Test'],
    );
    assert.deepEqual(
      (await store.transitions('a')).map((t) => t.to),
      ['Test'],
    );
  });
});
