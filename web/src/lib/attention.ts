import { useEffect, useRef } from 'react';
import { type Alert, alertLabel, attentionQueue } from '../../../src/shared/attention.ts';
import { ApiError, apiPath } from './api.ts';
import { notifySnapshot } from './finished.ts';

/** POST a JSON body; throws `ApiError` with the server's message on 4xx/5xx. */
export async function postJson<T>(path: string, body: unknown): Promise<T> {
  const res = await fetch(apiPath(path), {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    credentials: 'same-origin',
    body: JSON.stringify(body),
  });
  const json = (await res.json().catch(() => ({}))) as { error?: string; message?: string };
  if (!res.ok) {
    throw new ApiError(
      res.status,
      json.error ?? `http_${res.status}`,
      json.message ?? res.statusText,
    );
  }
  return json as T;
}

export function acknowledge(id: string): Promise<unknown> {
  return postJson('attention/ack', { id, by: 'web' });
}

export function snooze(id: string, minutes: number): Promise<unknown> {
  return postJson('attention/snooze', { id, minutes, by: 'web' });
}

/**
 * A browser notification for each alert that joins the queue while the page
 * is open (when the user turned notifications on). Alerts already queued on
 * first sight are not announced: the page shows them.
 */
export function useAlertNotifications(alerts: Record<string, Alert> | null | undefined): void {
  const seen = useRef<Set<string> | null>(null);
  useEffect(() => {
    if (!alerts) return;
    const queued = attentionQueue(Object.values(alerts), Date.now());
    const before = seen.current;
    seen.current = new Set([...(before ?? []), ...queued.map((a) => a.id)]);
    if (!before || !notifySnapshot()) return;
    for (const a of queued) {
      // Completions are announced by the finish watcher already.
      if (before.has(a.id) || a.kind === 'completed' || a.kind === 'failed') continue;
      try {
        new Notification(`Livestream: ${a.sessionId} — ${alertLabel(a.kind)}`, {
          body: a.reason,
          tag: `livestream:${a.id}`,
        });
      } catch {
        // Some browsers only allow notifications from a service worker.
      }
    }
  }, [alerts]);
}
