import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import type { SessionStatus } from '../shared/model.ts';
import { SqliteStore } from '../store/sqlite-store.ts';
import { MemoryHub } from './hub.ts';
import { LogBook } from './logbook.ts';
import { MetricsEngine } from './metrics-engine.ts';
import { SessionEngine } from './session-engine.ts';

const logger = pino({ level: 'silent' });
const temps: string[] = [];
after(async () => {
  for (const dir of temps) await rm(dir, { recursive: true, force: true });
});

const DAY = 86_400_000;
const NOW = Date.UTC(2025, 5, 1);

async function world() {
  const dir = await mkdtemp(join(tmpdir(), 'ls-prune-'));
  temps.push(dir);
  const store = SqliteStore.open(join(dir, 'history.db'), { logger });
  const hub = new MemoryHub();
  const logs = new LogBook(hub, { store });
  const sessions = new SessionEngine({ hub, store, logs, logger });
  await sessions.restore();
  const metrics = new MetricsEngine({ hub, sessions, store, logs, logger, now: () => NOW });
  await metrics.restore();
  after(async () => {
    metrics.close();
    sessions.close();
    await store.close();
  });
  const push = (id: string, status: string, at: number) => {
    // A build's `completed` ends it only on its last phase (7/7).
    const end = status === 'completed' ? { phase_number: '7/7' } : {};
    const r = sessions.ingestPush({ session_id: id, current_phase: 'Build', ...end, status }, at);
    assert.ok(r.ok);
    assert.ok(metrics.agentUpdate({ session_id: id, agent_id: 'a1', status: 'running' }, at).ok);
    return r.key;
  };
  return { store, hub, logs, sessions, metrics, push };
}

function listed(hub: MemoryHub): string[] {
  const data = hub.get('sessions')?.data as { sessions: Record<string, SessionStatus> };
  return Object.keys(data.sessions).sort();
}

describe('pruning sessions from memory', () => {
  it('forgets finished sessions older than the cut-off, as the store does, and keeps active ones', async () => {
    const w = await world();
    const old = w.push('old-done', 'completed', NOW - 40 * DAY);
    const failed = w.push('old-failed', 'failed', NOW - 31 * DAY);
    const stuck = w.push('old-active', 'building', NOW - 40 * DAY);
    const recent = w.push('recent', 'completed', NOW - DAY);
    assert.deepEqual(listed(w.hub), [old, stuck, failed, recent].sort());
    assert.ok(w.hub.get(`metrics:${old}`));
    assert.ok(w.logs.tail(old, 10).length > 0);

    const before = NOW - 30 * DAY;
    const forgotten = w.sessions.prune(before);
    w.metrics.forget(forgotten);
    await w.store.prune(before);

    assert.deepEqual(forgotten.sort(), [old, failed].sort());
    assert.deepEqual(listed(w.hub), [stuck, recent].sort());
    for (const key of forgotten) {
      assert.equal(w.sessions.get(key), null);
      assert.equal(w.hub.get(`session:${key}`), undefined);
      assert.equal(w.hub.get(`logs:${key}`), undefined);
      assert.equal(w.hub.get(`metrics:${key}`), undefined);
      assert.deepEqual(w.logs.tail(key, 10), []);
      assert.equal(w.sessions.keyFor(key), null);
      assert.equal(w.metrics.get(key), null);
    }
    assert.deepEqual(
      w.sessions.list().map((s) => s.id),
      [stuck, recent],
    );
    assert.ok(w.hub.get(`metrics:${stuck}`));
    assert.ok(w.logs.tail(recent, 10).length > 0);
    assert.deepEqual(w.sessions.prune(before), [], 'a second prune finds nothing');
  });

  it('a pruned session id seen again starts a new session with its own numbering', async () => {
    const w = await world();
    const key = w.push('again', 'completed', NOW - 40 * DAY);
    // Lines of this turn are not saved yet: forgetting first means they never are.
    w.metrics.forget(w.sessions.prune(NOW - 30 * DAY));
    await w.store.prune(NOW - 30 * DAY);

    assert.equal(w.push('again', 'building', NOW), key, 'the key is given out again');
    const detail = w.sessions.get(key);
    assert.equal(detail?.status.state, 'active');
    assert.equal(detail?.timeline.length, 1, 'no phases of the pruned session');
    assert.deepEqual(
      w.logs.tail(key, 10).map((l) => l.n),
      [1],
    );
    assert.equal(w.metrics.get(key)?.agent_performance.data?.length, 1);
    await null; // the LogBook hands the turn's lines to the store in a microtask
    assert.deepEqual(
      (await w.store.logLines(key)).map((l) => [l.n, l.text]),
      [[1, 'Session again: Build, building']],
      'the old lines were neither kept nor saved late over the new ones',
    );
  });
});
