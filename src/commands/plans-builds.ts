import { LivestreamClient } from '../client/index.ts';
import type { AgentSummary } from '../shared/agents.ts';
import type { Alert } from '../shared/attention.ts';
import type { SessionStatus } from '../shared/model.ts';
import type { BuildsState } from '../tui/state.ts';

/** Where build sessions come from: a server's protocol client; the host only listens. */
export interface BuildsSource {
  /** The client the sessions arrive on (the host may follow more topics on it, e.g. plans). */
  readonly client?: LivestreamClient;
  start(onChange: (state: Omit<BuildsState, 'url'>) => void): void;
  /** What the server refused (an `error` message), in its words. */
  onRefusal?(listener: (message: string) => void): void;
  close(): void | Promise<void>;
}

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

/**
 * Why the WebSocket could not be opened, in words: a browser-style WebSocket
 * only reports a failed handshake, so ask the HTTP API, which says whether
 * the server is there and whether it wants a (different) token.
 */
export async function diagnose(url: string, token?: string): Promise<string> {
  const health = new URL(wsUrl(url));
  health.protocol = health.protocol === 'wss:' ? 'https:' : 'http:';
  health.pathname = health.pathname.replace(/\/ws$/, '/api/health');
  health.search = '';
  try {
    const res = await fetch(health, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
      signal: AbortSignal.timeout(5000),
    });
    await res.body?.cancel();
    if (res.status === 401) {
      return token
        ? `${url} refused the token: check --token (or LIVESTREAM_TOKEN)`
        : `${url} requires a token: pass --token (or set LIVESTREAM_TOKEN)`;
    }
    if (res.status === 403) return `${url} refused the connection (${res.status})`;
    return res.ok ? `cannot open a WebSocket to ${url}` : `${url} answered ${res.status}`;
  } catch {
    return `cannot reach ${url}`;
  }
}

/**
 * The live build sessions of a running server, over the protocol client:
 * topics `sessions`, `agents` and `attention` (the open alerts).
 */
export function buildsSource(url: string, token?: string): BuildsSource {
  const refusals = new Set<(message: string) => void>();
  const client = new LivestreamClient({
    url: wsUrl(url),
    ...(token ? { token } : {}),
    // E.g. more plans than the server lets one connection follow (too_many_topics).
    onError: (error) => {
      for (const listener of refusals) listener(error.message);
    },
  });
  let off: (() => void) | null = null;
  let release: (() => void) | null = null;
  let closed = false;
  return {
    client,
    onRefusal(listener) {
      refusals.add(listener);
    },
    start(onChange) {
      let last: Omit<BuildsState, 'url'> | null = null;
      let lastEntry: unknown = null;
      let lastAgents: unknown = null;
      let lastAlerts: unknown = null;
      /** Why the last connection failed; asked once per disconnection. */
      let reason: string | null = null;
      let diagnosing = false;
      const emit = () => {
        if (closed) return;
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
        const agentsEntry = client.topic<'agents'>('agents');
        const agents: AgentSummary[] =
          agentsEntry === lastAgents || !agentsEntry?.data
            ? (last?.agents ?? [])
            : Object.values(agentsEntry.data.agents).sort((a, b) => b.lastAt - a.lastAt);
        lastAgents = agentsEntry;
        const alertsEntry = client.topic<'attention'>('attention');
        // Undefined until the topic arrives: "no alerts yet" is not "none open".
        const alerts: Alert[] | undefined =
          alertsEntry === lastAlerts || !alertsEntry?.data
            ? last?.alerts
            : Object.values(alertsEntry.data.alerts);
        lastAlerts = alertsEntry;
        if (status !== 'disconnected') reason = null;
        else if (reason === null && !diagnosing) {
          diagnosing = true;
          void diagnose(url, token).then((why) => {
            diagnosing = false;
            if (client.getState().status === 'live') return;
            reason = why;
            emit();
          });
        }
        const error = status === 'disconnected' ? (reason ?? `cannot reach ${url}`) : null;
        if (
          last &&
          last.status === status &&
          last.error === error &&
          last.sessions === sessions &&
          last.agents === agents &&
          last.alerts === alerts
        )
          return;
        last = { status, sessions, agents, alerts, error };
        onChange(last);
      };
      off = client.on(emit);
      const releaseSessions = client.subscribe('sessions');
      const releaseAgents = client.subscribe('agents');
      const releaseAlerts = client.subscribe('attention');
      release = () => {
        releaseSessions();
        releaseAgents();
        releaseAlerts();
      };
      client.connect();
      emit();
    },
    close() {
      closed = true;
      release?.();
      off?.();
      client.close();
    },
  };
}

/** Acknowledge and snooze on a server (`POST /api/attention/ack|snooze`), as "tui". */
export function serverAlerts(
  url: string,
  token?: string,
): { acknowledge(id: string): Promise<void>; snooze(id: string, minutes: number): Promise<void> } {
  const post = async (path: string, body: Record<string, unknown>) => {
    const target = new URL(path, url.replace(/^ws(s?):/, 'http$1:').replace(/\/ws$/, '/'));
    const res = await fetch(target, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify({ ...body, by: 'tui' }),
      signal: AbortSignal.timeout(5000),
    });
    if (res.ok) {
      await res.body?.cancel();
      return;
    }
    const answer = (await res.json().catch(() => null)) as { message?: string } | null;
    throw new Error(answer?.message ?? `${url} answered ${res.status}`);
  };
  return {
    acknowledge: (id) => post('/api/attention/ack', { id }),
    snooze: (id, minutes) => post('/api/attention/snooze', { id, minutes }),
  };
}
