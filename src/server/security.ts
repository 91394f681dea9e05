import { randomBytes, timingSafeEqual } from 'node:crypto';
import fastifyCors from '@fastify/cors';
import fastifyHelmet from '@fastify/helmet';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { sendError } from './errors.ts';
import { isLoopback } from './loopback.ts';
import { crossOriginAllowed, originAllowed } from './ws/origin.ts';

export interface SecurityOptions {
  /** Required on every request when set (non-loopback binds). */
  token: string | null;
  /** Extra origins allowed to call the API and open WebSockets (`--allow-origin`; `*` for any). */
  allowedOrigins: string[];
  /** `--insecure`: a non-loopback bind without a token, so LAN Host names are expected. */
  insecure?: boolean;
  /** Paths that check a token of their own instead (`/api/forward` with forwarder tokens). */
  ownToken?: (pathname: string) => boolean;
}

/**
 * The token cookie's name on a server listening on `port`. Cookies are not
 * scoped to a port, so a fixed name would hand this server's token to every
 * other server on the same host name; one per port keeps them apart.
 */
export function tokenCookieName(port: number | undefined): string {
  return `livestream_token_${port ?? 0}`;
}

function hostname(hostHeader: string | undefined): string {
  if (!hostHeader) return '';
  if (hostHeader.startsWith('[')) return hostHeader.slice(0, hostHeader.indexOf(']') + 1);
  return hostHeader.split(':')[0] ?? '';
}

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** A cookie's value; a malformed one (bad percent-encoding) counts as absent, never as an error. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    try {
      return decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Fastify's own security-header plugin, set to the policy the dashboard needs (plain HTTP, no inline script). */
async function securityHeaders(app: FastifyInstance): Promise<void> {
  await app.register(fastifyHelmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'", 'ws:', 'wss:'],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        frameAncestors: ["'none'"],
        formAction: ["'self'"],
      },
    },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    crossOriginOpenerPolicy: { policy: 'same-origin' },
    // Served over plain HTTP on loopback or a LAN: HSTS would pin nothing.
    strictTransportSecurity: false,
    // Allowed origins read the API with CORS; CORP would not stop them but says nothing useful.
    crossOriginResourcePolicy: false,
  });
}

/**
 * Host checks against DNS rebinding, the token, Origin checks on state-changing
 * requests, CORS for the allowed origins, and security headers. Returns the
 * one-time login path to print when a token is set (it sets the token cookie
 * once, then stops working).
 */
export async function installSecurity(
  app: FastifyInstance,
  options: SecurityOptions,
): Promise<string | null> {
  let loginCode: string | null = options.token ? randomBytes(16).toString('hex') : null;
  const allowed = options.allowedOrigins;

  const deny = (reply: FastifyReply, status: number, code: string, message: string) =>
    sendError(reply, status, code, message);

  // These checks run before @fastify/websocket's own hooks, so a WebSocket
  // upgrade refused here is answered on a socket that plugin never destroys:
  // it stayed open, and `close()` waited for it forever. A successful upgrade
  // is hijacked and never gets here.
  app.addHook('onResponse', async (request) => {
    if (request.raw.headers.upgrade) request.raw.socket.destroySoon();
  });

  await securityHeaders(app);
  // Before the token check: a preflight carries no credentials by design, and
  // a refusal sent to an allowed origin must be readable by its page.
  await app.register(fastifyCors, {
    origin: (origin, callback) => callback(null, crossOriginAllowed(origin, allowed)),
    methods: ['GET', 'HEAD', 'POST'],
    maxAge: 600,
  });

  app.addHook('onRequest', async (request, reply) => {
    const host = request.headers.host;
    if (!options.token && !options.insecure && !isLoopback(hostname(host))) {
      return deny(
        reply,
        403,
        'forbidden',
        `Host '${host ?? ''}' is not allowed: use http://127.0.0.1.`,
      );
    }
    const origin = request.headers.origin;
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      if (!originAllowed(origin, host, allowed)) {
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
    if (options.ownToken?.(url.pathname)) return;
    const cookieName = tokenCookieName(request.socket.localPort);
    if (url.pathname === '/auth' && loginCode !== null) {
      const code = url.searchParams.get('code') ?? '';
      if (safeEqual(code, loginCode)) {
        loginCode = null;
        reply.header(
          'set-cookie',
          `${cookieName}=${encodeURIComponent(options.token)}; HttpOnly; SameSite=Strict; Path=/`,
        );
        return reply.redirect('/', 303);
      }
    }
    const bearer = request.headers.authorization?.replace(/^Bearer\s+/i, '');
    const presented =
      bearer ?? readCookie(request.headers.cookie, cookieName) ?? url.searchParams.get('token');
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
