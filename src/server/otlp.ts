import { Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { type OtlpOutcome, otlpLogEvents, otlpMetricEvents } from '../core/agents/otlp.ts';
import type { Telemetry } from '../telemetry.ts';
import { sendError } from './errors.ts';
import {
  decodeProtobuf,
  logRecordsOf,
  metricPointsOf,
  OtlpBodyError,
  type OtlpSignal,
  protobufResponse,
  spanCountOf,
} from './otlp-decode.ts';
import type { AgentQueries } from './routes/agents.ts';

const PROTOBUF = 'application/x-protobuf';

/**
 * The OTLP/HTTP receiver at the standard paths, `POST /v1/logs` and
 * `POST /v1/metrics` (and `POST /v1/traces`, accepted and counted), in JSON or protobuf (`application/x-protobuf`), plain or
 * gzip: Claude Code's and Codex's OpenTelemetry export pointed at Livestream
 * (`OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:<port>`). Records become agent
 * events joined with the transcripts and hooks by session and request id.
 * The server's token, Host/Origin checks, rate limit and body limit apply as
 * on every route; a body that is not OTLP gets a 400 with its reason,
 * malformed records a partial success; records this model does not read are
 * accepted and counted.
 */
export async function otlpRoutes(
  app: FastifyInstance,
  opts: { agents: Pick<AgentQueries, 'apply'>; telemetry: Telemetry; bodyLimit: number },
): Promise<void> {
  const { agents, telemetry } = opts;
  const received = telemetry.counter(
    'livestream_otlp_records_total',
    'OTLP log records, metric points and spans received, by signal and result (unknown: not a metric or event this model reads)',
    ['signal', 'result'],
  );

  app.addContentTypeParser(PROTOBUF, { parseAs: 'buffer' }, (_request, body, done) =>
    done(null, body),
  );
  app.addHook('preParsing', async (request, _reply, payload) => {
    const encoding = request.headers['content-encoding'];
    if (encoding === undefined || encoding === 'identity') return payload;
    if (encoding !== 'gzip') {
      throw Object.assign(
        new Error(`Content-Encoding '${encoding}' is not supported; send gzip or none.`),
        {
          statusCode: 415,
        },
      );
    }
    return gunzipped(payload, opts.bodyLimit);
  });

  const handle =
    (signal: OtlpSignal) =>
    async (request: { body: unknown; headers: Record<string, unknown> }, reply: FastifyReply) => {
      const protobuf = String(request.headers['content-type'] ?? '').startsWith(PROTOBUF);
      let result: { outcomes: OtlpOutcome[]; malformed: number };
      try {
        const body = protobuf ? decodeProtobuf(signal, request.body as Uint8Array) : request.body;
        result = apply[signal](body);
      } catch (error) {
        if (!(error instanceof OtlpBodyError)) throw error;
        received.inc({ signal, result: 'rejected' });
        return sendError(reply, 400, 'bad_request', error.message);
      }
      for (const o of result.outcomes) received.inc({ signal, result: o });
      // Well-formed data this model does not read (other metrics, spans) is accepted and
      // counted: an agent's exporter should not warn about a dashboard's choices.
      const rejected = result.malformed;
      if (rejected > 0) received.inc({ signal, result: 'malformed' }, rejected);
      const message = rejected > 0 ? `${rejected} ${ITEMS[signal]} were malformed.` : '';
      if (protobuf) {
        return reply.type(PROTOBUF).send(Buffer.from(protobufResponse(signal, rejected, message)));
      }
      return rejected > 0
        ? { partialSuccess: { [REJECTED[signal]]: rejected, errorMessage: message } }
        : {};
    };

  const apply: Record<
    OtlpSignal,
    (body: unknown) => { outcomes: OtlpOutcome[]; malformed: number }
  > = {
    logs: (body) => {
      const { records, malformed } = logRecordsOf(body);
      const { events, outcomes } = otlpLogEvents(records, Date.now());
      for (const e of events) agents.apply(e, null);
      return { outcomes, malformed };
    },
    metrics: (body) => {
      const { points, malformed } = metricPointsOf(body);
      const { events, outcomes } = otlpMetricEvents(points, Date.now());
      for (const e of events) agents.apply(e, null);
      return { outcomes, malformed };
    },
    // Claude Code's beta traces repeat what its events say: accepted, counted, not read.
    traces: (body) => {
      const { spans, malformed } = spanCountOf(body);
      return { outcomes: Array.from({ length: spans }, () => 'ignored' as const), malformed };
    },
  };

  app.post('/v1/logs', handle('logs'));
  app.post('/v1/metrics', handle('metrics'));
  app.post('/v1/traces', handle('traces'));
}

const ITEMS: Record<OtlpSignal, string> = { logs: 'records', metrics: 'points', traces: 'spans' };
const REJECTED: Record<OtlpSignal, string> = {
  logs: 'rejectedLogRecords',
  metrics: 'rejectedDataPoints',
  traces: 'rejectedSpans',
};

/** A gzip body inflated, refused (413) once it passes `limit` bytes inflated. */
function gunzipped(payload: NodeJS.ReadableStream, limit: number): NodeJS.ReadableStream {
  let raw = 0;
  let inflated = 0;
  payload.on('data', (chunk: Buffer) => {
    raw += chunk.length;
  });
  const cap = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      inflated += chunk.length;
      if (inflated > limit) {
        callback(
          Object.assign(new Error(`The inflated request body is larger than ${limit} bytes.`), {
            statusCode: 413,
          }),
        );
        return;
      }
      callback(null, chunk);
    },
  });
  const gunzip = createGunzip();
  gunzip.on('error', (error) =>
    cap.destroy(
      Object.assign(new Error(`The gzip body is not valid: ${error.message}.`), {
        statusCode: 400,
      }),
    ),
  );
  payload.pipe(gunzip).pipe(cap);
  // Fastify compares Content-Length with this, not with the inflated size.
  Object.defineProperty(cap, 'receivedEncodedLength', { get: () => raw });
  return cap;
}
