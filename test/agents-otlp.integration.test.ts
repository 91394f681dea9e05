import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { OTLPLogExporter as JsonLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as ProtoLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import {
  AggregationTemporalityPreference,
  OTLPMetricExporter as JsonMetricExporter,
} from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtoMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import type { AgentDetail, AgentSummary } from '../src/shared/agents.ts';
import { claudeAssistant, claudePrompt, lines } from './helpers/agent-transcripts.ts';
import { claudeApiRequest, otlpLogsJson } from './helpers/otlp-records.ts';
import { type ServerProcess, startServer, waitFor } from './helpers/server.ts';

const TOKEN = 'otlp-test-token-0123456789';
const JOINED = 'c0ffee00-1111-4222-8333-000000000001';
const ONLY_OTEL = 'c0ffee00-1111-4222-8333-000000000002';
const METRICS_ONLY = 'c0ffee00-1111-4222-8333-000000000003';
const PROTO = 'c0ffee00-1111-4222-8333-000000000004';
let dir = '';
let server: ServerProcess | null = null;
let url = '';
const auth = { Authorization: `Bearer ${TOKEN}` };
const T0 = Date.now() - 60_000;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ls-agents-otlp-'));
  const project = join(dir, 'claude', 'projects', '-home-dev-shop');
  await mkdir(project, { recursive: true });
  await mkdir(join(dir, 'builds'));
  const base = (dt: number) => ({ sessionId: JOINED, at: T0 + dt, cwd: '/home/dev/shop' });
  await writeFile(
    join(project, `${JOINED}.jsonl`),
    lines([
      claudePrompt(base(0), 'add checkout'),
      claudeAssistant(base(1000), {
        messageId: 'msg_1',
        requestId: 'req_1',
        usage: { input: 20, output: 500, cacheRead: 30_000, cache1h: 4000 },
        text: 'ok',
      }),
    ]),
  );
  server = await startServer([
    '--root',
    join(dir, 'builds'),
    '--db',
    join(dir, 'h.db'),
    '--claude-dir',
    join(dir, 'claude'),
    '--codex-dir',
    join(dir, 'codex'),
    '--token',
    TOKEN,
  ]);
  url = server.url;
});
after(async () => {
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function agent(id: string): Promise<AgentDetail | undefined> {
  const r = await fetch(`${url}/api/agents/${id}`, { headers: auth });
  return r.status === 200 ? ((await r.json()) as AgentDetail) : undefined;
}

const resource = resourceFromAttributes({
  'service.name': 'claude-code',
  'service.version': '2.0.31',
});

/** Claude Code's events, emitted through the OpenTelemetry JS SDK as Claude Code does. */
async function emitLogs(
  exporter: JsonLogExporter | ProtoLogExporter,
  records: { body: string; attributes: Record<string, string> }[],
): Promise<void> {
  const provider = new LoggerProvider({
    resource,
    processors: [new SimpleLogRecordProcessor(exporter)],
  });
  const logger = provider.getLogger('com.anthropic.claude_code.events', '2.0.31');
  for (const r of records) logger.emit({ ...r, timestamp: new Date() });
  await provider.forceFlush();
  await provider.shutdown();
}

const apiRequest = (sessionId: string, extra: Record<string, string>) => ({
  body: 'claude_code.api_request',
  attributes: {
    'event.name': 'api_request',
    'session.id': sessionId,
    'prompt.id': 'p-1',
    model: 'claude-sonnet-4-5-20250929',
    duration_ms: '2100',
    ...extra,
  },
});

describe('OTLP receiver, fed by the OpenTelemetry SDK exporters', () => {
  test('http/json logs: an api_request joins the transcript response by request id (tokens from the transcript, cost from OTel)', async () => {
    await waitFor(() => agent(JOINED), 10_000, 'the transcript session');
    await emitLogs(new JsonLogExporter({ url: `${url}/v1/logs`, headers: auth }), [
      apiRequest(JOINED, {
        'event.sequence': '3',
        request_id: 'req_1',
        input_tokens: '20',
        output_tokens: '500',
        cache_read_tokens: '30000',
        cache_creation_tokens: '4000',
        cost_usd: '0.0615',
      }),
    ]);
    const d = await waitFor(async () => {
      const a = await agent(JOINED);
      return a && a.summary.costUsd === 0.0615 ? a : undefined;
    });
    assert.equal(d.summary.responses, 1);
    assert.deepEqual(d.summary.usage, {
      input: 20,
      output: 500,
      cacheRead: 30_000,
      cacheWrite5m: 0,
      cacheWrite1h: 4000,
    });
  });

  test('http/protobuf logs: a session only OTel reports, with its tool results', async () => {
    await emitLogs(new ProtoLogExporter({ url: `${url}/v1/logs`, headers: auth }), [
      apiRequest(PROTO, {
        'event.sequence': '1',
        request_id: 'req_p',
        input_tokens: '100',
        output_tokens: '40',
        cost_usd: '0.0009',
      }),
      {
        body: 'claude_code.tool_result',
        attributes: {
          'event.name': 'tool_result',
          'session.id': PROTO,
          tool_name: 'Bash',
          tool_use_id: 'toolu_p1',
          success: 'true',
          duration_ms: '1200',
          tool_parameters: JSON.stringify({ bash_command: 'npm', full_command: 'npm test' }),
        },
      },
    ]);
    const d = await waitFor(async () => {
      const a = await agent(PROTO);
      return a && a.tools.length === 1 ? a : undefined;
    });
    assert.equal(d.summary.costUsd, 0.0009);
    assert.equal(d.summary.usage.input, 100);
    assert.deepEqual(
      d.tools.map((t) => [t.id, t.name, t.outcome, t.durationMs]),
      [['toolu_p1', 'Bash', 'ok', 1200]],
    );
  });

  for (const encoding of ['json', 'protobuf'] as const) {
    test(`${encoding} metrics with delta temporality: cost and tokens of a session nothing else reports`, async () => {
      const id = `${METRICS_ONLY}-${encoding}`;
      const options = {
        url: `${url}/v1/metrics`,
        headers: auth,
        temporalityPreference: AggregationTemporalityPreference.DELTA,
      };
      const exporter =
        encoding === 'json' ? new JsonMetricExporter(options) : new ProtoMetricExporter(options);
      const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
      const provider = new MeterProvider({ resource, readers: [reader] });
      const meter = provider.getMeter('com.anthropic.claude_code', '2.0.31');
      const cost = meter.createCounter('claude_code.cost.usage', { unit: 'USD' });
      const tokens = meter.createCounter('claude_code.token.usage', { unit: 'tokens' });
      const sessions = meter.createCounter('claude_code.session.count');
      const model = 'claude-opus-4-5-20251101';
      sessions.add(1, { 'session.id': id });
      cost.add(0.5, { 'session.id': id, model });
      tokens.add(1000, { 'session.id': id, model, type: 'input' });
      tokens.add(200, { 'session.id': id, model, type: 'output' });
      await provider.forceFlush();
      // A second export: deltas add.
      cost.add(0.25, { 'session.id': id, model });
      await provider.forceFlush();
      await provider.shutdown();
      const d = await waitFor(async () => {
        const a = await agent(id);
        return a && a.summary.costUsd === 0.75 ? a : undefined;
      });
      assert.equal(d.summary.usage.input, 1000);
      assert.equal(d.summary.usage.output, 200);
      const m = await (await fetch(`${url}/metrics`, { headers: auth })).text();
      assert.match(m, /livestream_otlp_records_total\{[^}]*result="ignored"[^}]*\} [1-9]/);
    });
  }

  test('configured as the README says for Claude Code: base endpoint, headers and gzip from OTEL_* variables', async () => {
    const id = 'c0ffee00-1111-4222-8333-000000000005';
    const saved = { ...process.env };
    Object.assign(process.env, {
      OTEL_EXPORTER_OTLP_ENDPOINT: url,
      OTEL_EXPORTER_OTLP_HEADERS: `Authorization=Bearer ${TOKEN}`,
      OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip',
    });
    try {
      await emitLogs(new ProtoLogExporter(), [
        apiRequest(id, {
          'event.sequence': '1',
          request_id: 'req_env',
          input_tokens: '5',
          output_tokens: '5',
          cost_usd: '0.002',
        }),
      ]);
    } finally {
      for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
      Object.assign(process.env, saved);
    }
    const d = await waitFor(() => agent(id));
    assert.equal(d.summary.costUsd, 0.002);
  });

  test('gzip bodies are read; a retried batch counts once', async () => {
    const body = JSON.stringify(
      otlpLogsJson([
        claudeApiRequest({
          sessionId: ONLY_OTEL,
          at: Date.now(),
          requestId: 'req_z',
          input: 7,
          output: 3,
          costUsd: 0.01,
        }),
      ]),
    );
    for (let i = 0; i < 2; i++) {
      const r = await fetch(`${url}/v1/logs`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json', 'content-encoding': 'gzip' },
        body: gzipSync(body),
      });
      assert.equal(r.status, 200);
      assert.deepEqual(await r.json(), {});
    }
    const d = await waitFor(() => agent(ONLY_OTEL));
    assert.equal(d.summary.responses, 1);
    assert.equal(d.summary.costUsd, 0.01);
    // A gzip of a few KB that inflates past the 1 MiB body limit, and a body that is not gzip.
    const gz = (body: Uint8Array) =>
      fetch(`${url}/v1/logs`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json', 'content-encoding': 'gzip' },
        body: new Uint8Array(body),
      });
    const bomb = await gz(gzipSync(Buffer.alloc(8 * 1024 * 1024, 0x20)));
    assert.equal(bomb.status, 413);
    assert.match(((await bomb.json()) as { message: string }).message, /inflated/);
    const notGzip = await gz(Buffer.from('{"resourceLogs":[]}'));
    assert.equal(notGzip.status, 400);
    assert.match(((await notGzip.json()) as { message: string }).message, /gzip/);
  });

  test('bad bodies get a 400 with a reason; records not read are accepted and counted, malformed ones a partial success; no token a 401', async () => {
    const post = (body: BodyInit, type: string, headers: Record<string, string> = auth) =>
      fetch(`${url}/v1/logs`, {
        method: 'POST',
        headers: { ...headers, 'content-type': type },
        body,
      });
    const notOtlp = await post(JSON.stringify({ resourceLogs: 'nope' }), 'application/json');
    assert.equal(notOtlp.status, 400);
    assert.match(
      ((await notOtlp.json()) as { message: string }).message,
      /resourceLogs must be an array/,
    );
    const garbage = await post(
      Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2]),
      'application/x-protobuf',
    );
    assert.equal(garbage.status, 400);
    assert.match(
      ((await garbage.json()) as { message: string }).message,
      /not an OTLP logs protobuf/,
    );
    // 5,000 nested AnyValue kvlists: refused like any body nested past 64 levels.
    let value = Buffer.from([0x0a, 0x01, 0x78]); // AnyValue{stringValue:"x"}
    for (let i = 0; i < 5000; i++) {
      const kv = Buffer.concat([
        Buffer.from([0x0a, 0x01, 0x6b, 0x12]),
        varint(value.length),
        value,
      ]);
      const list = Buffer.concat([Buffer.from([0x0a]), varint(kv.length), kv]);
      value = Buffer.concat([Buffer.from([0x32]), varint(list.length), list]);
    }
    const attr = Buffer.concat([
      Buffer.from([0x0a, 0x01, 0x61, 0x12]),
      varint(value.length),
      value,
    ]);
    const record = Buffer.concat([Buffer.from([0x32]), varint(attr.length), attr]);
    const scope = Buffer.concat([Buffer.from([0x12]), varint(record.length), record]);
    const rl = Buffer.concat([Buffer.from([0x12]), varint(scope.length), scope]);
    const deep = await post(
      Buffer.concat([Buffer.from([0x0a]), varint(rl.length), rl]),
      'application/x-protobuf',
    );
    assert.equal(deep.status, 400);
    assert.match(((await deep.json()) as { message: string }).message, /64/);
    // Well-formed records this model does not read are accepted and counted; malformed ones rejected.
    const unknown = await post(
      JSON.stringify(otlpLogsJson([{ name: 'http.request', attrs: { a: 1 }, timeMs: Date.now() }])),
      'application/json',
    );
    assert.equal(unknown.status, 200);
    assert.deepEqual(await unknown.json(), {});
    const malformed = await post(
      JSON.stringify({ resourceLogs: [{ scopeLogs: [{ logRecords: [7, 'x'] }] }] }),
      'application/json',
    );
    assert.deepEqual(await malformed.json(), {
      partialSuccess: { rejectedLogRecords: 2, errorMessage: '2 records were malformed.' },
    });
    const metrics = await (await fetch(`${url}/metrics`, { headers: auth })).text();
    assert.match(
      metrics,
      /livestream_otlp_records_total\{signal="logs",result="unattributed"\} [1-9]/,
    );
    assert.match(metrics, /livestream_otlp_records_total\{signal="logs",result="malformed"\} 2/);
    const brotli = await post(JSON.stringify({ resourceLogs: [] }), 'application/json', {
      ...auth,
      'content-encoding': 'br',
    });
    assert.equal(brotli.status, 415);
    assert.match(((await brotli.json()) as { message: string }).message, /gzip/);
    const noToken = await post(JSON.stringify({ resourceLogs: [] }), 'application/json', {});
    assert.equal(noToken.status, 401);
    // The server is still well.
    const list = (await (await fetch(`${url}/api/agents`, { headers: auth })).json()) as {
      agents: AgentSummary[];
    };
    assert.ok(list.agents.length >= 3);
  });
});

describe('OTLP traces', () => {
  test("Claude Code's beta traces are accepted and counted, JSON and protobuf", async () => {
    const trace = {
      resourceSpans: [
        {
          resource: {
            attributes: [{ key: 'service.name', value: { stringValue: 'claude-code' } }],
          },
          scopeSpans: [
            {
              scope: { name: 'com.anthropic.claude_code.tracing' },
              spans: [
                {
                  traceId: '5b8efff798038103d269b633813fc60c',
                  spanId: 'eee19b7ec3c1b174',
                  name: 'claude_code.interaction',
                  kind: 1,
                  startTimeUnixNano: '1764811000000000000',
                  endTimeUnixNano: '1764811001000000000',
                },
              ],
            },
          ],
        },
      ],
    };
    const json = await fetch(`${url}/v1/traces`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify(trace),
    });
    assert.equal(json.status, 200);
    assert.deepEqual(await json.json(), {});
    const require = createRequire(import.meta.url);
    const root = require('@opentelemetry/otlp-transformer/build/src/generated/root.js');
    const T = root.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
    const proto = await fetch(`${url}/v1/traces`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/x-protobuf' },
      body: Buffer.from(T.encode(T.fromObject({ resourceSpans: [] })).finish()),
    });
    assert.equal(proto.status, 200);
    assert.equal(proto.headers.get('content-type'), 'application/x-protobuf');
    const metrics = await (await fetch(`${url}/metrics`, { headers: auth })).text();
    assert.match(metrics, /livestream_otlp_records_total\{signal="traces",result="ignored"\} 1/);
  });
});

function varint(n: number): Buffer {
  const out: number[] = [];
  let v = n;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return Buffer.from(out);
}
