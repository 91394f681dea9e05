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
} from './otlp-decode.ts';
import type { AgentQueries } from './routes/agents.ts';

const PROTOBUF = 'application/x-protobuf';

/**
 * The OTLP/HTTP receiver at the standard paths, `POST /v1/logs` and
 * `POST /v1/metrics`, in JSON or protobuf (`application/x-protobuf`), plain or
 * gzip: Claude Code's and Codex's OpenTelemetry export pointed at Livestream
 * (`OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:<port>`). Records become agent
 * events joined with the transcripts and hooks by session and request id.
 * The server's token, Host/Origin checks, rate limit and body limit apply as
 * on every route; a body that is not OTLP gets a 400 with its reason, records
 * this model cannot use are counted and answered as a partial success.
 */
export async function otlpRoutes(
  app: FastifyInstance,
  opts: { agents: Pick<AgentQueries, 'apply'>; telemetry: Telemetry; bodyLimit: number },
): Promise<void> {
  const { agents, telemetry } = opts;
  const received = telemetry.counter(
    'livestream_otlp_records_total',
    'OTLP log records and metric points received, by signal and result (unknown: not a metric or event this model reads)',
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
        result = signal === 'logs' ? applyLogs(body) : applyMetrics(body);
      } catch (error) {
        if (!(error instanceof OtlpBodyError)) throw error;
        received.inc({ signal, result: 'rejected' });
        return sendError(reply, 400, 'bad_request', error.message);
      }
      const rejected = result.malformed + result.outcomes.filter((o) => o !== 'applied').length;
      for (const o of result.outcomes) received.inc({ signal, result: o });
      if (result.malformed > 0) received.inc({ signal, result: 'malformed' }, result.malformed);
      const message =
        rejected > 0
          ? `${rejected} of ${result.outcomes.length + result.malformed} ${signal === 'logs' ? 'records' : 'points'} were not used (malformed, unknown or without a session id).`
          : '';
      if (protobuf) {
        return reply.type(PROTOBUF).send(Buffer.from(protobufResponse(signal, rejected, message)));
      }
      const field = signal === 'logs' ? 'rejectedLogRecords' : 'rejectedDataPoints';
      return rejected > 0 ? { partialSuccess: { [field]: rejected, errorMessage: message } } : {};
    };

  const applyLogs = (body: unknown) => {
    const { records, malformed } = logRecordsOf(body);
    const { events, outcomes } = otlpLogEvents(records, Date.now());
    for (const e of events) agents.apply(e, null);
    return { outcomes, malformed };
  };
  const applyMetrics = (body: unknown) => {
    const { points, malformed } = metricPointsOf(body);
    const { events, outcomes } = otlpMetricEvents(points, Date.now());
    for (const e of events) agents.apply(e, null);
    return { outcomes, malformed };
  };

  app.post('/v1/logs', handle('logs'));
  app.post('/v1/metrics', handle('metrics'));
}

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
