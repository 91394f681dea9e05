import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sessionStatus } from '../../test/helpers/fixtures.ts';
import type { SessionStatus } from '../shared/model.ts';
import type { DeltaMessage } from '../shared/protocol.ts';
import { MemoryHub } from './hub.ts';
import { type ListPolicy, SessionsTopic } from './sessions-topic.ts';

/** Entries cost 10; past the budget only the newest `budget / 10` are listed. */
function policy(budget: number): ListPolicy & { wholeCalls: number } {
  const p = {
    wholeCalls: 0,
    budget,
    entry: (_key: string, status: SessionStatus) => ({ entry: status, chars: 10 }),
    whole(sessions: Iterable<readonly [string, SessionStatus]>) {
      p.wholeCalls++;
      const all = [...sessions].sort(([, a], [, b]) => b.changedAt - a.changedAt);
      const kept = all.slice(0, Math.floor(budget / 10));
      const out: Record<string, SessionStatus> = {};
      for (const [key, status] of kept) out[key] = status;
      return kept.length < all.length
        ? { sessions: out, omitted: all.length - kept.length }
        : { sessions: out };
    },
  };
  return p;
}

test('within the budget a change sets its entry only; crossing it builds the list whole', () => {
  const hub = new MemoryHub();
  const deltas: DeltaMessage[] = [];
  hub.fanout.subscribeAll((d) => deltas.push(d));
  const sessions = new Map<string, SessionStatus>();
  const p = policy(30);
  const list = new SessionsTopic(hub, () => sessions.entries(), p);
  for (const id of ['a', 'b']) sessions.set(id, sessionStatus(id, { changedAt: 1 }));
  list.publishAll();
  assert.equal(p.wholeCalls, 1);

  sessions.set('c', sessionStatus('c', { changedAt: 2 }));
  list.changed(new Map([['c', sessions.get('c')]]));
  assert.equal(p.wholeCalls, 1, 'still within the budget: no rebuild');
  const last = deltas.at(-1);
  assert.deepEqual(last?.op === 'patch' && last.patch.map((o) => o.path), ['/sessions/c']);

  // A fourth session takes it past the budget: built whole, the oldest left out.
  sessions.set('d', sessionStatus('d', { changedAt: 3 }));
  list.changed(new Map([['d', sessions.get('d')]]));
  assert.equal(p.wholeCalls, 2);
  const data = hub.get('sessions')?.data as {
    sessions: Record<string, unknown>;
    omitted?: number;
  };
  assert.equal(data.omitted, 1);
  assert.equal(Object.keys(data.sessions).length, 3);

  // Back within it: whole again, nothing omitted.
  sessions.delete('d');
  list.changed(new Map([['d', undefined]]));
  assert.equal(p.wholeCalls, 3);
  const back = hub.get('sessions')?.data as { sessions: object };
  assert.deepEqual(Object.keys(back.sessions).sort(), ['a', 'b', 'c']);
  list.close();
});

test('past the budget a change shows at once and the list is ranked again soon', async () => {
  const hub = new MemoryHub();
  const sessions = new Map<string, SessionStatus>();
  const p = policy(20);
  const list = new SessionsTopic(hub, () => sessions.entries(), p);
  for (const [i, id] of ['a', 'b', 'c'].entries()) {
    sessions.set(id, sessionStatus(id, { changedAt: i }));
  }
  list.publishAll();
  const before = p.wholeCalls;
  sessions.set('a', sessionStatus('a', { changedAt: 10, currentPhase: 'Deploy' }));
  list.changed(new Map([['a', sessions.get('a')]]));
  assert.equal(p.wholeCalls, before, 'no rebuild on the change itself');
  const shown = () => hub.get('sessions')?.data as { sessions: Record<string, SessionStatus> };
  assert.equal(shown().sessions.a?.currentPhase, 'Deploy');
  const ranked = new Promise<void>((resolve) => {
    hub.fanout.subscribe('sessions', () => resolve());
  });
  await ranked;
  assert.equal(p.wholeCalls, before + 1);
  assert.deepEqual(Object.keys(shown().sessions).sort(), ['a', 'c'], 'the newest two');
  list.close();
});
