import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * The one origin policy of the server, for HTTP requests (state-changing
 * methods, CORS) and WebSocket upgrades alike: no Origin (not a browser), the
 * same host as the request, one of `allowed` compared as normalised origins
 * (scheme, host, port; case and a default port do not matter), or any origin
 * when `allowed` holds `*`. The opaque origin `null` (sandboxed frames, file
 * pages) is never an allowed origin, `*` included.
 */
export function originAllowed(
  origin: string | undefined,
  host: string | undefined,
  allowed: readonly string[],
): boolean {
  if (origin === undefined) return true;
  const normal = normaliseOrigin(origin);
  if (normal === null) return false;
  if (allowed.includes('*')) return true;
  if (host !== undefined && sameHost(normal, host)) return true;
  return allowed.some((entry) => normaliseOrigin(entry) === normal);
}

/** Whether a listed origin (not only the request's own host) allows `origin`: CORS answers those. */
export function crossOriginAllowed(
  origin: string | undefined,
  allowed: readonly string[],
): boolean {
  if (origin === undefined) return false;
  const normal = normaliseOrigin(origin);
  if (normal === null) return false;
  return allowed.includes('*') || allowed.some((entry) => normaliseOrigin(entry) === normal);
}

/** `scheme://host[:port]` of an http(s) origin, lower-cased, default port dropped; null otherwise. */
export function normaliseOrigin(origin: string): string | null {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  // An origin is only scheme, host and port: anything more is not an Origin header.
  if (url.pathname !== '/' || url.search || url.hash || url.username || url.password) return null;
  return `${url.protocol}//${url.host}`;
}

function sameHost(normalOrigin: string, host: string): boolean {
  const own = normalOrigin.replace(/^https?:\/\//, '');
  const lower = host.toLowerCase();
  if (own === lower) return true;
  // A Host header may carry the default port the origin drops.
  const scheme = normalOrigin.startsWith('https:') ? 'https:' : 'http:';
  return normaliseOrigin(`${scheme}//${lower}`) === normalOrigin;
}

/**
 * A route `onRequest` hook refusing the upgrade with 403 before any
 * WebSocket handshake happens (cross-site WebSocket hijacking).
 */
export function originGuard(allowed: readonly string[]) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const origin = request.headers.origin;
    if (originAllowed(origin, request.headers.host, allowed)) return;
    await reply.code(403).send({
      error: 'forbidden_origin',
      message: `Origin '${origin}' may not open a WebSocket here; serve the page from this server or add it to the allowed origins (--allow-origin).`,
    });
  };
}
