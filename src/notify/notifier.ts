import type { Logger } from 'pino';
import type { Alert } from '../shared/attention.ts';
import type { AlertStore, OutboxEntry } from '../store/alert-store.ts';
import { type Channel, DeliveryError } from './channels.ts';
import { type AlertEventBody, alertEvent, sampleAlert } from './event.ts';

export interface RetryPolicy {
  /** First retry after this (ms), doubled on each failure up to `maxMs`. */
  initialMs: number;
  maxMs: number;
  /** Attempts before a notification is given up (marked failed). */
  maxAttempts: number;
}

export const DEFAULT_RETRY: RetryPolicy = { initialMs: 1000, maxMs: 5 * 60_000, maxAttempts: 10 };

export interface NotifierOptions {
  store: AlertStore;
  channels: readonly Channel[];
  logger: Logger;
  /** The dashboard's base URL for links, once known. */
  dashboardUrl?: () => string | null;
  retry?: Partial<RetryPolicy>;
  now?: () => number;
}

/** The delay before attempt `attempts + 1`, with ±20 % jitter so retries of many alerts spread. */
export function backoff(attempts: number, policy: RetryPolicy, random = Math.random): number {
  const base = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.max(0, attempts - 1));
  return Math.round(base * (0.8 + 0.4 * random()));
}

export interface ChannelTestResult {
  channel: string;
  ok: boolean;
  error: string | null;
}

/**
 * Sends a sample alert to every channel now, outside any outbox (nothing is
 * stored or retried): what `livestream notify test` reports.
 */
export function testChannels(
  channels: readonly Channel[],
  dashboardUrl: string | null,
  now: number,
): Promise<ChannelTestResult[]> {
  const event = alertEvent(sampleAlert(now), dashboardUrl, true);
  return Promise.all(
    channels.map(async (channel) => {
      try {
        await channel.send(event);
        return { channel: channel.label, ok: true, error: null };
      } catch (error) {
        const message = error instanceof DeliveryError ? error.message : 'failed';
        return { channel: channel.label, ok: false, error: message };
      }
    }),
  );
}

/**
 * Delivers alerts to the channels through the store's outbox: each (alert,
 * channel) is queued once — a second raise of the same episode, or a restart,
 * cannot queue it again — and retried with exponential backoff until it goes
 * through or the attempts run out. Pending entries survive a restart and are
 * sent by the next start. Delivery is at least once: a crash between a send
 * and its record can repeat that one send.
 */
export class Notifier {
  readonly #store: AlertStore;
  readonly #channels: Map<string, Channel>;
  readonly #log: Logger;
  readonly #url: () => string | null;
  readonly #retry: RetryPolicy;
  readonly #now: () => number;
  #draining: Promise<void> | null = null;
  #again = false;
  #timer: NodeJS.Timeout | null = null;
  #closed = false;
  readonly #sent = new Set<(entry: OutboxEntry) => void>();

  constructor(opts: NotifierOptions) {
    this.#store = opts.store;
    this.#channels = new Map(opts.channels.map((c) => [c.key, c]));
    this.#log = opts.logger;
    this.#url = opts.dashboardUrl ?? (() => null);
    this.#retry = { ...DEFAULT_RETRY, ...opts.retry };
    this.#now = opts.now ?? Date.now;
  }

  get channels(): Channel[] {
    return [...this.#channels.values()];
  }

  /** Sends what a previous run left pending. */
  start(): void {
    this.#kick();
  }

  /** Called after each delivery attempt is recorded (tests, telemetry). */
  onAttempt(listener: (entry: OutboxEntry) => void): () => void {
    this.#sent.add(listener);
    return () => this.#sent.delete(listener);
  }

  /** Queues an alert on every channel (once per channel, ever) and sends it. */
  async notify(alert: Alert): Promise<void> {
    if (this.#closed || this.#channels.size === 0) return;
    const now = this.#now();
    const body = JSON.stringify(alertEvent(alert, this.#url()));
    for (const channel of this.#channels.values()) {
      await this.#store.enqueueNotification({
        alertId: alert.id,
        channel: channel.key,
        sessionId: alert.sessionId,
        nextAt: now,
        createdAt: now,
        body,
      });
    }
    this.#kick();
  }

  /** A sample to every channel now (see `testChannels`). */
  test(): Promise<ChannelTestResult[]> {
    return testChannels(this.channels, this.#url(), this.#now());
  }

  /** Resolves when nothing is being sent. */
  async idle(): Promise<void> {
    while (this.#draining) await this.#draining;
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.idle();
  }

  #kick(): void {
    if (this.#closed) return;
    if (this.#draining) {
      this.#again = true;
      return;
    }
    this.#draining = this.#drain()
      .catch((error: unknown) =>
        this.#log.warn({ err: error }, 'notifications: delivery loop failed'),
      )
      .finally(() => {
        this.#draining = null;
        if (this.#again) {
          this.#again = false;
          this.#kick();
        } else {
          this.#arm().catch(() => undefined);
        }
      });
  }

  async #drain(): Promise<void> {
    for (;;) {
      const due = await this.#store.dueNotifications(this.#now());
      if (due.length === 0 || this.#closed) return;
      await Promise.all(due.map((entry) => this.#deliver(entry)));
    }
  }

  async #deliver(entry: OutboxEntry): Promise<void> {
    const channel = this.#channels.get(entry.channel);
    const attempts = entry.attempts + 1;
    let update: Pick<OutboxEntry, 'state' | 'attempts' | 'nextAt' | 'lastError'>;
    if (!channel) {
      // Queued by a run configured with another channel; this run cannot send it.
      update = {
        state: 'failed',
        attempts: entry.attempts,
        nextAt: entry.nextAt,
        lastError: 'channel no longer configured',
      };
    } else {
      try {
        await channel.send(JSON.parse(entry.body) as AlertEventBody);
        update = { state: 'sent', attempts, nextAt: this.#now(), lastError: null };
        this.#log.info({ channel: channel.label, alert: entry.alertId }, 'notification sent');
      } catch (error) {
        const e =
          error instanceof DeliveryError
            ? error
            : new DeliveryError(String((error as Error).message), true);
        const giveUp = !e.retryable || attempts >= this.#retry.maxAttempts;
        update = {
          state: giveUp ? 'failed' : 'pending',
          attempts,
          nextAt: giveUp ? this.#now() : this.#now() + backoff(attempts, this.#retry),
          lastError: e.message,
        };
        this.#log.warn(
          { channel: channel.label, alert: entry.alertId, attempts, error: e.message },
          giveUp ? 'notification given up' : 'notification failed; will retry',
        );
      }
    }
    await this.#store.updateNotification(entry.alertId, entry.channel, update);
    for (const listener of this.#sent) listener({ ...entry, ...update });
  }

  /** One timer for the next retry due. */
  async #arm(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const next = await this.#store.nextNotificationAt();
    if (next === null || this.#closed) return;
    this.#timer = setTimeout(
      () => {
        this.#timer = null;
        this.#kick();
      },
      Math.max(0, next - this.#now()),
    );
    this.#timer.unref();
  }
}
