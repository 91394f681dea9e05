import type { FastifyInstance } from 'fastify';
import { jsonTextTooDeep, tooDeepMessage } from '../shared/json-depth.ts';

/**
 * JSON bodies for every route: Fastify's own parser (prototype-poisoning
 * checks kept) behind a nesting check on the raw text. A body of a few KB
 * nested thousands deep parses, but every later recursive walk over it
 * (validation, the hub's diff and encoder) overflows the stack; refused here,
 * it never reaches state shared with other sessions.
 */
export function installJsonBodies(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'string' },
    (request, body: string, done) => {
      if (jsonTextTooDeep(body)) {
        const error = new Error(`${tooDeepMessage('The request body')}.`) as Error & {
          statusCode: number;
        };
        error.statusCode = 400;
        done(error, undefined);
        return;
      }
      parse(request, body, done);
    },
  );
}
