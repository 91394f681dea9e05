import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { ChannelTestResult } from '../../notify/notifier.ts';
import { type Alert, attentionQueue } from '../../shared/attention.ts';
import type { AlertStore } from '../../store/alert-store.ts';
import type { Durability } from '../durable.ts';
import { sendError } from '../errors.ts';
import { badRequest, sessionIdParams } from '../params.ts';

/** What the attention routes need of the engine. */
export interface AttentionQueries {
  open(): Alert[];
  acknowledge(id: string, by: string | null): Promise<Alert | null>;
  snooze(id: string, until: number, by: string | null): Promise<Alert | null>;
}

export interface AttentionRoutesOptions {
  attention: AttentionQueries;
  notifier: { test(): Promise<ChannelTestResult[]> };
  store: Pick<AlertStore, 'alerts' | 'alertEvents' | 'alert'>;
  now?: () => number;
}

const alertId = z.string().min(1).max(2048);
/** Who acted, as shown in the history ("web", "tui", a name). */
const actor = z.string().min(1).max(100).optional();

const ackBody = z.object({ id: alertId, by: actor }).strict();

const WEEK_MIN = 7 * 24 * 60;
const snoozeBody = z
  .object({
    id: alertId,
    by: actor,
    /** Snooze for this many minutes… */
    minutes: z.number().int().min(1).max(WEEK_MIN).optional(),
    /** …or until this moment (epoch ms). */
    until: z.number().int().positive().optional(),
  })
  .strict()
  .refine((b) => (b.minutes === undefined) !== (b.until === undefined), {
    message: 'give either minutes or until',
  });

/**
 * `GET /api/attention` (the queue and every open alert), a session's alert
 * history, and acknowledging and snoozing.
 */
export async function attentionRoutes(app: FastifyInstance, opts: AttentionRoutesOptions) {
  const now = opts.now ?? Date.now;

  app.get('/api/attention', async () => {
    const open = opts.attention.open().sort((a, b) => b.raisedAt - a.raisedAt);
    const queue = attentionQueue(open, now());
    return { queue, alerts: open, count: queue.length };
  });

  app.get('/api/alerts/:id', async (request, reply) => {
    const params = sessionIdParams.safeParse(request.params);
    if (!params.success) return badRequest(reply, 'session id', params.error);
    const id = params.data.id;
    const [alerts, events] = await Promise.all([
      opts.store.alerts({ sessionId: id, limit: 500 }),
      opts.store.alertEvents(id),
    ]);
    return { session_id: id, alerts, events };
  });

  app.post('/api/notify/test', async () => {
    const results = await opts.notifier.test();
    return { channels: results, count: results.length };
  });

  app.post('/api/attention/ack', async (request, reply) => {
    const body = ackBody.safeParse(request.body);
    if (!body.success) return badRequest(reply, 'body', body.error);
    const alert = await opts.attention.acknowledge(body.data.id, body.data.by ?? null);
    if (!alert) return notFound(reply, body.data.id);
    const stored = await opts.store.alert(alert.id);
    return {
      status: 'acknowledged',
      alert,
      ...savedIf(stored?.acknowledgedAt === alert.acknowledgedAt),
    };
  });

  app.post('/api/attention/snooze', async (request, reply) => {
    const body = snoozeBody.safeParse(request.body);
    if (!body.success) return badRequest(reply, 'body', body.error);
    const { id, minutes, until, by } = body.data;
    const at = until ?? now() + (minutes ?? 0) * 60_000;
    const alert = await opts.attention.snooze(id, at, by ?? null);
    if (!alert) return notFound(reply, id);
    const stored = await opts.store.alert(alert.id);
    return { status: 'snoozed', alert, ...savedIf(stored?.snoozedUntil === alert.snoozedUntil) };
  });
}

/**
 * Whether the change is in the stored alert, read back from the store (its
 * writes are synchronous, and a failing disk is only logged by it): an
 * acknowledgement that was not saved comes back after a restart.
 */
function savedIf(saved: boolean): Durability {
  if (saved) return { saved: true };
  return {
    saved: false,
    history: 'not_saving',
    message:
      'Applied and shown live, but the alert history is not being saved (see the server log): after a restart the alert is back as it was.',
  };
}

function notFound(reply: Parameters<typeof sendError>[0], id: string) {
  return sendError(
    reply,
    404,
    'not_found',
    `No alert '${id}'. GET /api/attention lists the open ones.`,
  );
}
