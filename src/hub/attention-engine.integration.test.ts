import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import { session, tempDir } from '../../test/helpers/store.ts';
import { DEFAULT_THRESHOLDS } from '../core/attention/index.ts';
import type { Alert, AttentionData } from '../shared/attention.ts';
import { attentionQueue } from '../shared/attention.ts';
import type { SessionDetail, SessionStatus } from '../shared/model.ts';
import { topic } from '../shared/topics.ts';
import { SqliteAlertStore } from '../store/alert-store.ts';
import { SqliteStore } from '../store/sqlite-store.ts';
import { AttentionEngine } from './attention-engine.ts';
import { MemoryHub } from './hub.ts';

const logger = pino({ level: 'silent' });

function detail(status: SessionStatus): SessionDetail {
  return {
    status,
    timeline: [
      {
        phase: status.currentPhase,
        phaseNumber: status.phaseNumber.raw,
        startedAt: status.firstSeenAt,
        endedAt: null,
        durationMs: null,
      },
    ],
  };
}

/** Resolves with the `attention` data once `check` accepts it. */
function waitForAttention(hub: MemoryHub, check: (data: AttentionData) => boolean) {
  return new Promise<AttentionData>((resolve) => {
    const test = () => {
      const data = hub.get(topic('attention'))?.data as AttentionData | undefined;
      if (data && check(data)) {
        off();
        resolve(data);
      }
    };
    const off = hub.fanout.subscribe(topic('attention'), test);
    test();
  });
}

function open(dir: string) {
  const store = SqliteStore.open(join(dir, 'history.db'), { logger });
  return { store, alerts: new SqliteAlertStore(store.database, logger) };
}

describe('AttentionEngine', () => {
  const tmp = tempDir();
  after(() => tmp.cleanup());

  it('raises a failure once, keeps it across a restart, and stores the acknowledgement', async () => {
    const dir = join(tmp.dir, 'restart');
    let db = open(dir);
    let hub = new MemoryHub();
    const now = Date.now();
    const failed = session('weather-app', {
      state: 'failed',
      status: 'failed',
      firstSeenAt: now - 60_000,
      changedAt: now,
    });
    hub.set(topic('session', failed.id), detail(failed));
    let engine = new AttentionEngine({ hub, store: db.alerts, logger });
    const raised: Alert[] = [];
    engine.onRaised((a) => raised.push(a));
    await engine.start();
    const data = await waitForAttention(hub, (d) => Object.keys(d.alerts).length === 1);
    await engine.idle();
    const alert = Object.values(data.alerts)[0] as Alert;
    assert.equal(alert.kind, 'failed');
    assert.equal(alert.severity, 'critical');
    assert.equal(raised.length, 1);
    await engine.close();
    await db.store.close();

    // A restart sees the same episode: the same alert, not a new one to announce.
    db = open(dir);
    hub = new MemoryHub();
    hub.set(topic('session', failed.id), detail(failed));
    engine = new AttentionEngine({ hub, store: db.alerts, logger });
    engine.onRaised((a) => raised.push(a));
    await engine.start();
    await engine.idle();
    assert.equal(raised.length, 1);
    assert.deepEqual(
      engine.open().map((a) => a.id),
      [alert.id],
    );

    const acked = await engine.acknowledge(alert.id, 'web');
    assert.ok(acked?.acknowledgedAt);
    assert.deepEqual(attentionQueue(engine.open(), Date.now()), []);
    const events = await db.alerts.alertEvents(failed.id);
    assert.deepEqual(
      events.map((e) => e.kind),
      ['raised', 'acknowledged'],
    );
    assert.equal(events[1]?.detail, 'web');
    assert.equal(await engine.acknowledge('nope'), null);
    await engine.close();
    await db.store.close();
  });

  it('notices a gone producer on time, and resolves it when the producer writes again', async () => {
    const db = open(join(tmp.dir, 'gone'));
    const hub = new MemoryHub();
    const now = Date.now();
    const running = session('todo-api', { firstSeenAt: now, changedAt: now });
    hub.set(topic('session', running.id), detail(running));
    const engine = new AttentionEngine({
      hub,
      store: db.alerts,
      logger,
      thresholdsFor: () => ({ ...DEFAULT_THRESHOLDS, producerGoneMs: 300 }),
    });
    await engine.start();
    const gone = await waitForAttention(hub, (d) =>
      Object.values(d.alerts).some((a) => a.kind === 'producer_gone'),
    );
    const alert = Object.values(gone.alerts)[0] as Alert;
    assert.ok(alert.raisedAt - now >= 300, 'not before the quiet time');
    assert.equal(alert.since, now);

    const later = Date.now();
    hub.set(
      topic('session', running.id),
      detail({ ...running, changedAt: later, status: 'building' }),
    );
    await waitForAttention(hub, (d) => Object.keys(d.alerts).length === 0);
    await engine.idle();
    const stored = await db.alerts.alert(alert.id);
    assert.ok(stored?.resolvedAt);
    const snoozed = await engine.snooze(alert.id, later + 60_000);
    assert.equal(snoozed?.snoozedUntil, later + 60_000);
    await engine.close();
    await db.store.close();
  });
});
