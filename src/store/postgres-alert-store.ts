import type { Pool } from 'pg';
import type { Logger } from 'pino';
import type { Alert, AlertEvent } from '../shared/attention.ts';
import {
  type AlertStore,
  alertFromRow,
  eventFromRow,
  type OutboxEntry,
  outboxFromRow,
} from './alert-store.ts';

type Row = Record<string, unknown>;

/**
 * `AlertStore` in PostgreSQL (tables of PostgreSQL migration 2), beside a
 * PostgreSQL history: alerts, their history and the notification outbox are
 * shared, so a replica that takes over as writer carries on the same alerts
 * and does not notify twice. Like the SQLite one, it never throws: a failed
 * write is logged, a failed read answers empty.
 */
export class PostgresAlertStore implements AlertStore {
  readonly #pool: Pool;
  readonly #log: Logger;

  constructor(pool: Pool, logger: Logger) {
    this.#pool = pool;
    this.#log = logger;
  }

  async #rows(what: string, text: string, values: unknown[]): Promise<Row[]> {
    try {
      return (await this.#pool.query(text, values)).rows as Row[];
    } catch (error) {
      this.#log.warn({ err: (error as Error).message }, `alert store: ${what} failed`);
      return [];
    }
  }

  async #count(what: string, text: string, values: unknown[]): Promise<number> {
    try {
      return (await this.#pool.query(text, values)).rowCount ?? 0;
    } catch (error) {
      this.#log.warn({ err: (error as Error).message }, `alert store: ${what} failed`);
      return 0;
    }
  }

  async saveAlert(a: Alert): Promise<void> {
    await this.#count(
      'saving an alert',
      `INSERT INTO alerts (id, session_key, kind, raised_at, resolved_at, data) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (id) DO UPDATE SET resolved_at = excluded.resolved_at, data = excluded.data`,
      [a.id, a.sessionId, a.kind, a.raisedAt, a.resolvedAt, JSON.stringify(a)],
    );
  }

  async addAlertEvent(e: AlertEvent): Promise<void> {
    await this.#count(
      'saving an alert event',
      'INSERT INTO alert_events (alert_id, session_key, kind, at, detail, until) VALUES ($1, $2, $3, $4, $5, $6)',
      [e.alertId, e.sessionId, e.kind, e.at, e.detail, e.until],
    );
  }

  async alerts(
    filter: { sessionId?: string; open?: boolean; limit?: number } = {},
  ): Promise<Alert[]> {
    const where: string[] = [];
    const values: unknown[] = [];
    if (filter.sessionId !== undefined) {
      values.push(filter.sessionId);
      where.push(`session_key = $${values.length}`);
    }
    if (filter.open) where.push('resolved_at IS NULL');
    values.push(filter.limit ?? 1000);
    const rows = await this.#rows(
      'reading alerts',
      `SELECT data FROM alerts ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY raised_at DESC, id LIMIT $${values.length}`,
      values,
    );
    return rows.map(alertFromRow).filter((a): a is Alert => a !== null);
  }

  async alert(id: string): Promise<Alert | null> {
    const row = (
      await this.#rows('reading an alert', 'SELECT data FROM alerts WHERE id = $1', [id])
    )[0];
    return row ? alertFromRow(row) : null;
  }

  async alertEvents(sessionId: string): Promise<AlertEvent[]> {
    return (
      await this.#rows(
        'reading alert events',
        'SELECT * FROM alert_events WHERE session_key = $1 ORDER BY at, id',
        [sessionId],
      )
    )
      .map(eventFromRow)
      .filter((e): e is AlertEvent => e !== null);
  }

  async enqueueNotification(
    e: Omit<OutboxEntry, 'state' | 'attempts' | 'lastError'>,
  ): Promise<boolean> {
    const added = await this.#count(
      'queuing a notification',
      `INSERT INTO notifications (alert_id, channel, session_key, state, attempts, next_at, created_at, last_error, body)
       VALUES ($1, $2, $3, 'pending', 0, $4, $5, NULL, $6) ON CONFLICT DO NOTHING`,
      [e.alertId, e.channel, e.sessionId, e.nextAt, e.createdAt, e.body],
    );
    return added > 0;
  }

  async dueNotifications(now: number, limit = 50): Promise<OutboxEntry[]> {
    return (
      await this.#rows(
        'reading due notifications',
        "SELECT * FROM notifications WHERE state = 'pending' AND next_at <= $1 ORDER BY next_at, created_at LIMIT $2",
        [now, limit],
      )
    ).map(outboxFromRow);
  }

  async nextNotificationAt(): Promise<number | null> {
    const at = (
      await this.#rows(
        'reading the next notification',
        "SELECT MIN(next_at) AS at FROM notifications WHERE state = 'pending'",
        [],
      )
    )[0]?.at;
    return typeof at === 'number' ? at : null;
  }

  async updateNotification(
    alertId: string,
    channel: string,
    u: Pick<OutboxEntry, 'state' | 'attempts' | 'nextAt' | 'lastError'>,
  ): Promise<void> {
    await this.#count(
      'updating a notification',
      'UPDATE notifications SET state = $1, attempts = $2, next_at = $3, last_error = $4 WHERE alert_id = $5 AND channel = $6',
      [u.state, u.attempts, u.nextAt, u.lastError, alertId, channel],
    );
  }

  async notifications(alertId: string): Promise<OutboxEntry[]> {
    return (
      await this.#rows(
        'reading notifications',
        'SELECT * FROM notifications WHERE alert_id = $1 ORDER BY channel',
        [alertId],
      )
    ).map(outboxFromRow);
  }
}
