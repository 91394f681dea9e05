import type { FastifyInstance } from 'fastify';
import { FORWARD_WIRE_VERSION, forwardBatch } from '../../shared/forward.ts';
import type { Telemetry } from '../../telemetry.ts';
import { sendError } from '../errors.ts';
import type { ForwardIngest } from '../forward-ingest.ts';

/** Batches are bigger than a phase document: up to about 512 KiB each, some slack. */
const FORWARD_BODY_LIMIT = 4 * 1024 * 1024;

/** The path forwarders post to; with forwarder tokens it checks its own tokens. */
export const FORWARD_PATH = '/api/forward';

/**
 * `POST /api/forward`: a batch from `livestream forward` (see
 * src/shared/forward.ts). With `--forwarder-tokens` each machine presents its
 * own token (`Authorization: Bearer …`) and is the host that token names;
 * without, the server's own token (if any) was checked already and the batch
 * names its host. Answers what is applied up to; a resent batch is no-op.
 */
export async function forwardRoutes(
  app: FastifyInstance,
  opts: { ingest: ForwardIngest; telemetry: Telemetry },
): Promise<void> {
  const { ingest, telemetry } = opts;
  // What an operator watches a fleet by: batches, what became of their events, and how
  // long a batch takes from arrival to its acknowledgement (apply and commit).
  const batches = telemetry.counter('livestream_forward_batches_total', 'Forwarded batches taken');
  const events = telemetry.counter(
    'livestream_forward_events_total',
    'Forwarded events, by what became of them',
    ['result'],
  );
  const seconds = telemetry.histogram(
    'livestream_forward_batch_seconds',
    'Forwarded batch from arrival to acknowledgement (applied and committed)',
    [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  );
  app.post(FORWARD_PATH, { bodyLimit: FORWARD_BODY_LIMIT }, async (request, reply) => {
    let host: string | null = null;
    if (ingest.tokens) {
      const token = request.headers.authorization?.replace(/^Bearer\s+/i, '') ?? '';
      host = token === '' ? null : ingest.tokens.hostFor(token);
      if (host === null) {
        return sendError(
          reply,
          401,
          'unauthorized',
          'This forwarder token is not accepted (unknown or revoked): see serve --forwarder-tokens.',
        );
      }
    }
    const parsed = forwardBatch.safeParse(request.body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return sendError(
        reply,
        400,
        'bad_request',
        `invalid forward batch: ${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`,
      );
    }
    if ((parsed.data.version ?? 1) > FORWARD_WIRE_VERSION) {
      // Not 400: the forwarder would drop the batch. It keeps it until this server is upgraded.
      return sendError(
        reply,
        426,
        'upgrade_required',
        `This server speaks forward version ${FORWARD_WIRE_VERSION}, the forwarder ${parsed.data.version}: upgrade the server.`,
      );
    }
    const started = performance.now();
    const ack = await ingest.ingest(parsed.data, host ?? parsed.data.host);
    seconds.observe((performance.now() - started) / 1000);
    batches.inc();
    events.inc({ result: 'applied' }, ack.applied);
    events.inc({ result: 'duplicate' }, ack.duplicates);
    events.inc({ result: 'rejected' }, ack.rejected);
    return ack;
  });
}
