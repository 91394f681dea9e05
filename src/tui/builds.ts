import { LivestreamClient } from '../client/index.ts';
import type { AgentSummary } from '../shared/agents.ts';
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

/** The live build sessions of a running server, over the protocol client (topic `sessions`). */
export function buildsSource(url: string, token?: string): BuildsSource {
  const client = new LivestreamClient({ url: wsUrl(url), ...(token ? { token } : {}) });
  let off: (() => void) | null = null;
  let release: (() => void) | null = null;
  let closed = false;
  return {
    start(onChange) {
      let last: Omit<BuildsState, 'url'> | null = null;
      let lastEntry: unknown = null;
      let lastAgents: unknown = null;
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
          last.agents === agents
        )
          return;
        last = { status, sessions, agents, error };
        onChange(last);
      };
      off = client.on(emit);
      const releaseSessions = client.subscribe('sessions');
      const releaseAgents = client.subscribe('agents');
      release = () => {
        releaseSessions();
        releaseAgents();
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
