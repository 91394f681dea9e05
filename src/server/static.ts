import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { sendError } from './errors.ts';

/**
 * Serves the built dashboard (`dist/web`). Unknown API paths answer JSON 404s;
 * other unknown paths get the page, so deep links survive a reload.
 */
export async function staticRoutes(app: FastifyInstance, opts: { webDir: string }): Promise<void> {
  const built = existsSync(join(opts.webDir, 'index.html'));
  if (built) {
    await app.register(fastifyStatic, { root: opts.webDir, wildcard: false, index: 'index.html' });
  }
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    if (path.startsWith('/api/') || path.startsWith('/ws') || request.method !== 'GET') {
      return sendError(reply, 404, 'not_found', `No route ${request.method} ${path}.`);
    }
    if (!built) {
      return reply
        .code(503)
        .type('text/plain; charset=utf-8')
        .send('The web dashboard is not built yet: run `npm run build:web` (npm start does it).\n');
    }
    return reply.type('text/html; charset=utf-8').sendFile('index.html');
  });
}
