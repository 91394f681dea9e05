import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sendError } from './errors.ts';

export interface SecurityOptions {
  /** Required on every request when set (non-loopback binds). */
  token: string | null;
  /** Extra origins allowed to call the API and open WebSockets (`--allow-origin`). */
  allowedOrigins: string[];
}

export const TOKEN_COOKIE = 'livestream_token';

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/** True for a loopback address or name (what `--host` may be without a token). */
export function isLoopback(host: string): boolean {
  return LOOPBACK_HOSTS.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function hostname(hostHeader: string | undefined): string {
  if (!hostHeader) return '';
  if (hostHeader.startsWith('[')) return hostHeader.slice(0, hostHeader.indexOf(']') + 1);
  return hostHeader.split(':')[0] ?? '';
}

/**
 * Same origin as the request's Host, or listed. A missing Origin (curl, an
 * orchestrator, the TUI) is not a browser and is allowed.
 */
export function isOriginAllowed(
  origin: string | undefined,
  host: string | undefined,
  allowed: readonly string[],
): boolean {
  if (origin === undefined) return true;
  if (allowed.includes(origin)) return true;
  return host !== undefined && (origin === `http://${host}` || origin === `https://${host}`);
}

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

function cookie(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return decodeURIComponent(rest.join('='));
  }
  return undefined;
}

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self' ws: wss:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
};

/**
 * Host checks against DNS rebinding, the token, Origin checks on state-changing
 * requests, and security headers. Returns the one-time login path to print
 * when a token is set (it sets the token cookie once, then stops working).
 */
export function installSecurity(app: FastifyInstance, options: SecurityOptions): string | null {
  let loginCode: string | null = options.token ? randomBytes(16).toString('hex') : null;

  const deny = (reply: FastifyReply, status: number, code: string, message: string) =>
    sendError(reply, status, code, message);

  // These checks run before @fastify/websocket's own hooks, so a WebSocket
  // upgrade refused here is answered on a socket that plugin never destroys:
  // it stayed open, and `close()` waited for it forever. A successful upgrade
  // is hijacked and never gets here.
  app.addHook('onResponse', async (request) => {
    if (request.raw.headers.upgrade) request.raw.socket.destroySoon();
  });

  app.addHook('onRequest', async (request, reply) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) reply.header(name, value);
    const host = request.headers.host;
    if (!options.token && !isLoopback(hostname(host))) {
      return deny(
        reply,
        403,
        'forbidden',
        `Host '${host ?? ''}' is not allowed: use http://127.0.0.1.`,
      );
    }
    const origin = request.headers.origin;
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      if (!isOriginAllowed(origin, host, options.allowedOrigins)) {
        return deny(
          reply,
          403,
          'forbidden',
          `Origin '${origin}' is not allowed (see --allow-origin).`,
        );
      }
    }
    if (!options.token) return;
    const url = new URL(request.url, 'http://x');
    if (url.pathname === '/auth' && loginCode !== null) {
      const code = url.searchParams.get('code') ?? '';
      if (safeEqual(code, loginCode)) {
        loginCode = null;
        reply.header(
          'set-cookie',
          `${TOKEN_COOKIE}=${encodeURIComponent(options.token)}; HttpOnly; SameSite=Strict; Path=/`,
        );
        return reply.redirect('/', 303);
      }
    }
    const bearer = request.headers.authorization?.replace(/^Bearer\s+/i, '');
    const presented = bearer ?? cookie(request, TOKEN_COOKIE) ?? url.searchParams.get('token');
    if (presented === null || presented === undefined || !safeEqual(presented, options.token)) {
      return deny(
        reply,
        401,
        'unauthorized',
        'A token is required: send "Authorization: Bearer <token>" or open the login link the server printed.',
      );
    }
  });

  return loginCode ? `/auth?code=${loginCode}` : null;
}
