import { useSyncExternalStore } from 'react';

/** Hash routes keep the server's SPA fallback trivial: `#/`, `#/session/<id>`, `#/plan/<id>`, `#/agent/<id>`. */
export type Route =
  | { view: 'overview' }
  | { view: 'session'; id: string; at: number | null }
  | { view: 'plan'; id: string }
  | { view: 'agent'; id: string }
  | { view: 'not_found'; hash: string };

function safeDecode(text: string): string | null {
  try {
    return decodeURIComponent(text);
  } catch {
    return null;
  }
}

export function parseHash(hash: string): Route {
  const full = hash.replace(/^#/, '');
  // `?at=<ms>` after a session's id is a replay moment (ids are encoded, so `?` is ours).
  const q = full.indexOf('?');
  const path = q < 0 ? full : full.slice(0, q);
  const at = q < 0 ? null : Number(new URLSearchParams(full.slice(q + 1)).get('at') ?? Number.NaN);
  if (path === '' || path === '/') return { view: 'overview' };
  const match = /^\/(session|plan|agent)\/(.+)$/.exec(path);
  const id = match?.[2] === undefined ? null : safeDecode(match[2]);
  if (match && id) {
    if (match[1] === 'plan') return { view: 'plan', id };
    if (match[1] === 'agent') return { view: 'agent', id };
    return { view: 'session', id, at: at !== null && Number.isFinite(at) ? at : null };
  }
  return { view: 'not_found', hash: path };
}

export function sessionHref(id: string, at?: number | null): string {
  const base = `#/session/${encodeURIComponent(id)}`;
  return at === undefined || at === null ? base : `${base}?at=${Math.round(at)}`;
}

export function planHref(id: string): string {
  return `#/plan/${encodeURIComponent(id)}`;
}

function subscribe(listener: () => void): () => void {
  window.addEventListener('hashchange', listener);
  return () => window.removeEventListener('hashchange', listener);
}

function getHash(): string {
  return window.location.hash;
}

/** The current route; the hash string is the snapshot, so the parse is cheap to repeat. */
export function useRoute(): Route {
  const hash = useSyncExternalStore(subscribe, getHash, getHash);
  return parseHash(hash);
}
