import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';

/** The JSON body of every error answer: a code for scripts, a sentence for people. */
export interface ErrorBody {
  error: string;
  message: string;
}

export function sendError(
  reply: FastifyReply,
  status: number,
  error: string,
  message: string,
): FastifyReply {
  return reply.code(status).send({ error, message } satisfies ErrorBody);
}

const CODES: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  413: 'too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
};

/**
 * Maps every error to a JSON answer. Client errors keep Fastify's message
 * (it says what was wrong with the request), and so does a 503 (a dependency
 * away for now, with Retry-After); anything else is logged with its stack and
 * answered with a generic sentence — no stack ever reaches a client.
 */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status = error.statusCode && error.statusCode >= 400 ? error.statusCode : 500;
    if (status < 500) {
      const message =
        error.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
          ? 'Request body is too large (the limit is 1 MiB).'
          : error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
            ? 'Send the body as application/json.'
            : error.message;
      return sendError(reply, status, CODES[status] ?? 'bad_request', message);
    }
    if (status === 503) {
      // A dependency away for now (a shared bus's Redis): the message says what, the client retries.
      reply.header('retry-after', '1');
      return sendError(reply, 503, 'unavailable', error.message);
    }
    request.log.error({ err: error, url: redactUrl(request.url) }, 'request failed');
    return sendError(reply, 500, 'internal', 'The server hit an unexpected error; see its log.');
  });
}

/** A URL with the value of any `token` query parameter replaced, fit for a log line. */
export function redactUrl(url: string): string {
  return url.replace(/([?&]token=)[^&#]*/gi, '$1[redacted]');
}
