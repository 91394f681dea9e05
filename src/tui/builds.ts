import { LivestreamClient } from '../client/index.ts';
import type { SessionStatus } from '../shared/model.ts';
import type { BuildsSource, BuildsState } from './controller.ts';

/** `http://host:port` (or `ws://…`, with or without `/ws`) → the server's `ws://host:port/ws`. */
export function wsUrl(url: string): string {
  const u = new URL(url);
  u.protocol = u.protocol === 'https:' || u.protocol === 'wss:' ? 'wss:' : 'ws:';
  if (!u.pathname.endsWith('/ws')) u.pathname = `${u.pathname.replace(/\/$/, '')}/ws`;
  return u.toString();
}

const ORDER = { active: 0, failed: 1, completed: 2 } as const;

/** Active first, then newest change first. */
export function orderSessions(sessions: Record<string, SessionStatus>): SessionStatus[] {
  return Object.values(sessions).sort(
    (a, b) => ORDER[a.state] - ORDER[b.state] || b.changedAt - a.changedAt,
  );
}

/** The live build sessions of a running server, over the protocol client (topic `sessions`). */
export function buildsSource(url: string, token?: string): BuildsSource {
  const client = new LivestreamClient({ url: wsUrl(url), ...(token ? { token } : {}) });
  let off: (() => void) | null = null;
  let release: (() => void) | null = null;
  return {
    start(onChange) {
      let last: Omit<BuildsState, 'url'> | null = null;
      let lastEntry: unknown = null;
      const emit = () => {
        const connection = client.getState();
        const entry = client.topic<'sessions'>('sessions');
        const status: BuildsState['status'] =
          connection.status === 'live'
            ? 'connected'
            : connection.status === 'connecting'
              ? 'connecting'
              : 'disconnected';
        const sessions =
          entry === lastEntry || !entry?.data
            ? (last?.sessions ?? [])
            : orderSessions(entry.data.sessions);
        lastEntry = entry;
        const error = status === 'disconnected' ? `cannot reach ${url}` : null;
        if (last && last.status === status && last.error === error && last.sessions === sessions)
          return;
        last = { status, sessions, error };
        onChange(last);
      };
      off = client.on(emit);
      release = client.subscribe('sessions');
      client.connect();
      emit();
    },
    close() {
      release?.();
      off?.();
      client.close();
    },
  };
}
