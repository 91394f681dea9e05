import { useSyncExternalStore } from 'react';

/** Hash routes keep the server's SPA fallback trivial: `#/`, `#/session/<id>`, `#/plan/<id>`, `#/agent/<id>`. */
export type Route =
  | { view: 'overview' }
  | { view: 'session'; id: string }
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
  const path = hash.replace(/^#/, '');
  if (path === '' || path === '/') return { view: 'overview' };
  const match = /^\/(session|plan|agent)\/(.+)$/.exec(path);
  const id = match?.[2] === undefined ? null : safeDecode(match[2]);
  if (match && id) return { view: match[1] as 'session' | 'plan' | 'agent', id };
  return { view: 'not_found', hash: path };
}

export function sessionHref(id: string): string {
  return `#/session/${encodeURIComponent(id)}`;
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
