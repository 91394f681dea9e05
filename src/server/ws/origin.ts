import type { FastifyReply, FastifyRequest } from 'fastify';

function normalise(origin: string): string | null {
  try {
    const url = new URL(origin);
    return url.protocol === 'null:' ? null : `${url.protocol}//${url.host}`;
  } catch {
    return null;
  }
}

/**
 * Whether a browser at `origin` may open a socket: no Origin (not a browser),
 * the same host as the request, or one of `allowed` (`*` allows any).
 */
export function originAllowed(
  origin: string | undefined,
  host: string | undefined,
  allowed: readonly string[],
): boolean {
  if (origin === undefined) return true;
  if (allowed.includes('*')) return true;
  const normal = normalise(origin);
  if (normal === null) return false;
  if (host !== undefined) {
    const own = normal.replace(/^[a-z]+:\/\//, '');
    if (own === host.toLowerCase()) return true;
  }
  return allowed.some((entry) => normalise(entry) === normal);
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
