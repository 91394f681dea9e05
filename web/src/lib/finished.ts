import { useEffect, useRef, useSyncExternalStore } from 'react';
import type { SessionState, SessionStatus } from '../../../src/shared/model.ts';

/** The DOM event fired on `window` when a session this page saw running completes or fails. */
export const FINISHED_EVENT = 'livestream:session-finished';

export interface FinishedDetail {
  id: string;
  state: Exclude<SessionState, 'active'>;
}

const NOTIFY_KEY = 'livestream.notify';

/** Browser notifications are opt-in: enabled only by the user's click, remembered per browser. */
export function notificationsSupported(): boolean {
  return typeof window !== 'undefined' && 'Notification' in window;
}

function notifyEnabled(): boolean {
  try {
    return (
      notificationsSupported() &&
      Notification.permission === 'granted' &&
      localStorage.getItem(NOTIFY_KEY) === '1'
    );
  } catch {
    return false;
  }
}

const notifyListeners = new Set<() => void>();
/** Cached: the snapshot is read on every render, localStorage is not free. */
let notifyCached: boolean | null = null;

function notifyChanged(): void {
  notifyCached = notifyEnabled();
  for (const l of notifyListeners) l();
}

function subscribeNotify(listener: () => void): () => void {
  notifyListeners.add(listener);
  // Another tab toggling the setting changes it here too.
  if (notifyListeners.size === 1) window.addEventListener('storage', notifyChanged);
  return () => {
    notifyListeners.delete(listener);
    if (notifyListeners.size === 0) window.removeEventListener('storage', notifyChanged);
  };
}

/** Whether the user turned browser notifications on (cached; alerts use it too). */
export function notifySnapshot(): boolean {
  notifyCached ??= notifyEnabled();
  return notifyCached;
}

export function useNotifyEnabled(): boolean {
  return useSyncExternalStore(subscribeNotify, notifySnapshot, () => false);
}

/** Asks for permission (only ever from a click) and toggles the setting. */
export async function toggleNotifications(): Promise<void> {
  if (!notificationsSupported()) return;
  if (notifyEnabled()) {
    localStorage.setItem(NOTIFY_KEY, '0');
  } else {
    const permission =
      Notification.permission === 'default'
        ? await Notification.requestPermission()
        : Notification.permission;
    localStorage.setItem(NOTIFY_KEY, permission === 'granted' ? '1' : '0');
  }
  notifyChanged();
}

function announce(detail: FinishedDetail): void {
  window.dispatchEvent(new CustomEvent<FinishedDetail>(FINISHED_EVENT, { detail }));
  if (!notifySnapshot()) return;
  try {
    // The tag makes the browser show one notification even when several tabs announce it.
    new Notification(`Livestream: ${detail.id} ${detail.state}`, {
      body:
        detail.state === 'completed' ? 'The build session completed.' : 'The build session failed.',
      tag: `livestream:${detail.id}:${detail.state}`,
    });
  } catch {
    // Some browsers only allow notifications from a service worker; the title still tells.
  }
}

/**
 * Watches the sessions collection and announces each session this page saw
 * active that is now completed or failed (also when the change arrives as a
 * catch-up after a reconnect). Sessions already finished on first sight are
 * not announced.
 */
export function useFinishWatcher(
  sessions: Record<string, SessionStatus> | null | undefined,
  onFinished: (detail: FinishedDetail) => void,
): void {
  const seen = useRef<Map<string, SessionState> | null>(null);
  const callback = useRef(onFinished);
  callback.current = onFinished;
  useEffect(() => {
    if (!sessions) return;
    const before = seen.current;
    const after = new Map<string, SessionState>();
    for (const s of Object.values(sessions)) {
      after.set(s.id, s.state);
      if (before?.get(s.id) === 'active' && s.state !== 'active') {
        const detail: FinishedDetail = { id: s.id, state: s.state };
        announce(detail);
        callback.current(detail);
      }
    }
    // Keep sessions missing from this snapshot so a later one cannot announce twice.
    if (before) for (const [id, state] of before) if (!after.has(id)) after.set(id, state);
    seen.current = after;
  }, [sessions]);
}
