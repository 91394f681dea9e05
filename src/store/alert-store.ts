import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { Logger } from 'pino';
import type { Alert, AlertEvent, AlertEventKind } from '../shared/attention.ts';
import { describeError } from './connection.ts';

/** One notification waiting to go out on one channel (the outbox). */
export interface OutboxEntry {
  alertId: string;
  /** A channel key that never holds a secret (`webhook:<hash>`, `desktop`). */
  channel: string;
  sessionId: string;
  state: 'pending' | 'sent' | 'failed';
  attempts: number;
  /** When the next attempt is due (epoch ms). */
  nextAt: number;
  createdAt: number;
  lastError: string | null;
  /** The JSON event to deliver. */
  body: string;
}

/**
 * Alerts, their history and the notification outbox, in the history
 * database. Writes never throw to callers (a failing disk is logged); the
 * outbox key (alert, channel) is what makes delivery at most once per episode
 * and channel across restarts.
 */
export interface AlertStore {
  /** Inserts or replaces an alert by id. */
  saveAlert(alert: Alert): Promise<void>;
  addAlertEvent(event: AlertEvent): Promise<void>;
  /** Alerts newest first; `open` keeps the unresolved ones. */
  alerts(filter?: { sessionId?: string; open?: boolean; limit?: number }): Promise<Alert[]>;
  alert(id: string): Promise<Alert | null>;
  /** A session's alert history, oldest first. */
  alertEvents(sessionId: string): Promise<AlertEvent[]>;
  /** Queues a notification; false when this alert was already queued on this channel. */
  enqueueNotification(
    entry: Omit<OutboxEntry, 'state' | 'attempts' | 'lastError'>,
  ): Promise<boolean>;
  /** Pending notifications due at `now`, oldest first. */
  dueNotifications(now: number, limit?: number): Promise<OutboxEntry[]>;
  /** The earliest `nextAt` of a pending notification; null when none is pending. */
  nextNotificationAt(): Promise<number | null>;
  updateNotification(
    alertId: string,
    channel: string,
    update: Pick<OutboxEntry, 'state' | 'attempts' | 'nextAt' | 'lastError'>,
  ): Promise<void>;
  notifications(alertId: string): Promise<OutboxEntry[]>;
}

type Row = Record<string, unknown>;

const EVENT_KINDS: ReadonlySet<string> = new Set<AlertEventKind>([
  'raised',
  'resolved',
  'acknowledged',
  'snoozed',
]);

export function alertFromRow(row: Row): Alert | null {
  if (typeof row.data !== 'string') return null;
  try {
    const value = JSON.parse(row.data) as Alert;
    return typeof value?.id === 'string' && typeof value.sessionId === 'string' ? value : null;
  } catch {
    return null;
  }
}

export function eventFromRow(row: Row): AlertEvent | null {
  if (typeof row.kind !== 'string' || !EVENT_KINDS.has(row.kind)) return null;
  return {
    alertId: String(row.alert_id),
    sessionId: String(row.session_key),
    kind: row.kind as AlertEventKind,
    at: Number(row.at),
    detail: typeof row.detail === 'string' ? row.detail : null,
    until: typeof row.until === 'number' ? row.until : null,
  };
}

export function outboxFromRow(row: Row): OutboxEntry {
  return {
    alertId: String(row.alert_id),
    channel: String(row.channel),
    sessionId: String(row.session_key),
    state: row.state as OutboxEntry['state'],
    attempts: Number(row.attempts),
    nextAt: Number(row.next_at),
    createdAt: Number(row.created_at),
    lastError: typeof row.last_error === 'string' ? row.last_error : null,
    body: String(row.body),
  };
}

/** `AlertStore` on the SQLite history database (tables of migration 2). */
export class SqliteAlertStore implements AlertStore {
  readonly #db: DatabaseSync;
  readonly #log: Logger;
  readonly #s: Record<string, StatementSync>;

  constructor(db: DatabaseSync, logger: Logger) {
    this.#db = db;
    this.#log = logger;
    const p = (sql: string) => db.prepare(sql);
    this.#s = {
      upsertAlert: p(`
        INSERT INTO alerts (id, session_key, kind, raised_at, resolved_at, data) VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT (id) DO UPDATE SET resolved_at = excluded.resolved_at, data = excluded.data`),
      alert: p('SELECT data FROM alerts WHERE id = ?'),
      all: p('SELECT data FROM alerts ORDER BY raised_at DESC, id LIMIT ?'),
      open: p(
        'SELECT data FROM alerts WHERE resolved_at IS NULL ORDER BY raised_at DESC, id LIMIT ?',
      ),
      bySession: p(
        'SELECT data FROM alerts WHERE session_key = ? ORDER BY raised_at DESC, id LIMIT ?',
      ),
      openBySession: p(
        'SELECT data FROM alerts WHERE session_key = ? AND resolved_at IS NULL ORDER BY raised_at DESC, id LIMIT ?',
      ),
      addEvent: p(
        'INSERT INTO alert_events (alert_id, session_key, kind, at, detail, until) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      events: p('SELECT * FROM alert_events WHERE session_key = ? ORDER BY at, id'),
      enqueue: p(`
        INSERT OR IGNORE INTO notifications (alert_id, channel, session_key, state, attempts, next_at,
          created_at, last_error, body) VALUES (?, ?, ?, 'pending', 0, ?, ?, NULL, ?)`),
      due: p(
        "SELECT * FROM notifications WHERE state = 'pending' AND next_at <= ? ORDER BY next_at, created_at LIMIT ?",
      ),
      nextDue: p("SELECT MIN(next_at) AS at FROM notifications WHERE state = 'pending'"),
      update: p(
        'UPDATE notifications SET state = ?, attempts = ?, next_at = ?, last_error = ? WHERE alert_id = ? AND channel = ?',
      ),
      notifications: p('SELECT * FROM notifications WHERE alert_id = ? ORDER BY channel'),
    };
  }

  /** Runs a write; a closed database or a failing disk is logged, never thrown. */
  #write<T>(what: string, fn: () => T, fallback: T): T {
    if (!this.#db.isOpen) return fallback;
    try {
      return fn();
    } catch (error) {
      this.#log.warn({ err: describeError(error) }, `alert store: ${what} failed`);
      return fallback;
    }
  }

  #read(stmt: StatementSync, ...args: (string | number)[]): Row[] {
    if (!this.#db.isOpen) return [];
    return stmt.all(...args) as Row[];
  }

  async saveAlert(a: Alert): Promise<void> {
    this.#write(
      'saving an alert',
      () => {
        this.#s.upsertAlert?.run(
          a.id,
          a.sessionId,
          a.kind,
          a.raisedAt,
          a.resolvedAt,
          JSON.stringify(a),
        );
      },
      undefined,
    );
  }

  async addAlertEvent(e: AlertEvent): Promise<void> {
    this.#write(
      'saving an alert event',
      () => {
        this.#s.addEvent?.run(e.alertId, e.sessionId, e.kind, e.at, e.detail, e.until);
      },
      undefined,
    );
  }

  async alerts(
    filter: { sessionId?: string; open?: boolean; limit?: number } = {},
  ): Promise<Alert[]> {
    const limit = filter.limit ?? 1000;
    const s = this.#s;
    const rows =
      filter.sessionId === undefined
        ? this.#read((filter.open ? s.open : s.all) as StatementSync, limit)
        : this.#read(
            (filter.open ? s.openBySession : s.bySession) as StatementSync,
            filter.sessionId,
            limit,
          );
    return rows.map(alertFromRow).filter((a): a is Alert => a !== null);
  }

  async alert(id: string): Promise<Alert | null> {
    const row = this.#read(this.#s.alert as StatementSync, id)[0];
    return row ? alertFromRow(row) : null;
  }

  async alertEvents(sessionId: string): Promise<AlertEvent[]> {
    return this.#read(this.#s.events as StatementSync, sessionId)
      .map(eventFromRow)
      .filter((e): e is AlertEvent => e !== null);
  }

  async enqueueNotification(
    e: Omit<OutboxEntry, 'state' | 'attempts' | 'lastError'>,
  ): Promise<boolean> {
    return this.#write(
      'queuing a notification',
      () =>
        Number(
          this.#s.enqueue?.run(e.alertId, e.channel, e.sessionId, e.nextAt, e.createdAt, e.body)
            .changes,
        ) > 0,
      false,
    );
  }

  async dueNotifications(now: number, limit = 50): Promise<OutboxEntry[]> {
    return this.#read(this.#s.due as StatementSync, now, limit).map(outboxFromRow);
  }

  async nextNotificationAt(): Promise<number | null> {
    const at = this.#read(this.#s.nextDue as StatementSync)[0]?.at;
    return typeof at === 'number' ? at : null;
  }

  async updateNotification(
    alertId: string,
    channel: string,
    u: Pick<OutboxEntry, 'state' | 'attempts' | 'nextAt' | 'lastError'>,
  ): Promise<void> {
    this.#write(
      'updating a notification',
      () => {
        this.#s.update?.run(u.state, u.attempts, u.nextAt, u.lastError, alertId, channel);
      },
      undefined,
    );
  }

  async notifications(alertId: string): Promise<OutboxEntry[]> {
    return this.#read(this.#s.notifications as StatementSync, alertId).map(outboxFromRow);
  }
}
