import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type PostgresServer, startPostgres } from '../../test/helpers/services.ts';
import { createLogger } from '../logger.ts';
import type { Alert } from '../shared/attention.ts';
import type { AlertStore } from './alert-store.ts';
import { SqliteAlertStore } from './alert-store.ts';
import { PostgresStore } from './postgres-store.ts';
import { SqliteStore } from './sqlite-store.ts';

/**
 * One contract, both alert stores: what the attention engine and the
 * notifier rely on holds on SQLite (the embedded default) and on PostgreSQL
 * (replicas sharing alerts).
 */
const logger = createLogger({ level: 'silent' });

const alert = (id: string, fields: Partial<Alert> = {}): Alert => ({
  id,
  sessionId: 'build-1',
  kind: 'stalled',
  severity: 'warning',
  reason: 'No phase change for 20 minutes',
  since: 1_000,
  raisedAt: 2_000,
  resolvedAt: null,
  acknowledgedAt: null,
  snoozedUntil: null,
  ...fields,
});

function contract(
  name: string,
  open: () => Promise<{ alerts: AlertStore; close(): Promise<void> }>,
) {
  describe(`${name} alert store`, () => {
    let store: { alerts: AlertStore; close(): Promise<void> };
    before(async () => {
      store = await open();
    });
    after(() => store.close());

    test('alerts: saved, replaced by id, filtered, newest first', async () => {
      const { alerts } = store;
      await alerts.saveAlert(alert('a1'));
      await alerts.saveAlert(alert('a2', { raisedAt: 3_000, sessionId: 'build-2' }));
      await alerts.saveAlert(alert('a1', { resolvedAt: 4_000 }));
      assert.deepEqual(
        (await alerts.alerts()).map((a) => a.id),
        ['a2', 'a1'],
      );
      assert.deepEqual(
        (await alerts.alerts({ open: true })).map((a) => a.id),
        ['a2'],
      );
      assert.deepEqual(
        (await alerts.alerts({ sessionId: 'build-1' })).map((a) => a.id),
        ['a1'],
      );
      assert.equal((await alerts.alert('a1'))?.resolvedAt, 4_000);
      assert.equal(await alerts.alert('nope'), null);
      assert.equal((await alerts.alerts({ limit: 1 })).length, 1);
    });

    test('history: events of a session, oldest first', async () => {
      const { alerts } = store;
      await alerts.addAlertEvent({
        alertId: 'a1',
        sessionId: 'build-1',
        kind: 'raised',
        at: 2_000,
        detail: 'why',
        until: null,
      });
      await alerts.addAlertEvent({
        alertId: 'a1',
        sessionId: 'build-1',
        kind: 'snoozed',
        at: 2_500,
        detail: 'ana',
        until: 9_000,
      });
      const events = await alerts.alertEvents('build-1');
      assert.deepEqual(
        events.map((e) => [e.kind, e.at, e.until]),
        [
          ['raised', 2_000, null],
          ['snoozed', 2_500, 9_000],
        ],
      );
    });

    test('notifications: queued once per channel, due in order, updated', async () => {
      const { alerts } = store;
      const entry = {
        alertId: 'a2',
        channel: 'webhook:1',
        sessionId: 'build-2',
        nextAt: 5_000,
        createdAt: 4_000,
        body: '{}',
      };
      assert.equal(await alerts.enqueueNotification(entry), true);
      assert.equal(await alerts.enqueueNotification(entry), false, 'queued once');
      await alerts.enqueueNotification({ ...entry, channel: 'desktop', nextAt: 6_000 });
      assert.equal(await alerts.nextNotificationAt(), 5_000);
      assert.deepEqual(
        (await alerts.dueNotifications(5_500)).map((n) => n.channel),
        ['webhook:1'],
      );
      await alerts.updateNotification('a2', 'webhook:1', {
        state: 'sent',
        attempts: 1,
        nextAt: 5_000,
        lastError: null,
      });
      assert.equal(await alerts.nextNotificationAt(), 6_000);
      const all = await alerts.notifications('a2');
      assert.deepEqual(
        all.map((n) => [n.channel, n.state, n.attempts]),
        [
          ['desktop', 'pending', 0],
          ['webhook:1', 'sent', 1],
        ],
      );
    });
  });
}

contract('SQLite', async () => {
  const history = SqliteStore.open(':memory:', { logger });
  return { alerts: new SqliteAlertStore(history.database, logger), close: () => history.close() };
});

let pg: PostgresServer | null = null;
contract('PostgreSQL', async () => {
  pg = await startPostgres();
  const history = await PostgresStore.open(pg.url, { logger });
  return {
    alerts: history.alertStore(),
    close: async () => {
      await history.close();
      await pg?.close();
    },
  };
});
