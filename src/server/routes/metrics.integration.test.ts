import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import pino from 'pino';
import { MemoryHub } from '../../hub/hub.ts';
import { LogBook } from '../../hub/logbook.ts';
import { MetricsEngine } from '../../hub/metrics-engine.ts';
import { SessionEngine } from '../../hub/session-engine.ts';
import type { Analytics, SessionMetrics } from '../../shared/metrics.ts';
import { SqliteStore } from '../../store/sqlite-store.ts';
import { Telemetry, timeStoreWrites } from '../../telemetry.ts';
import { installErrorHandler } from '../errors.ts';
import { metricsRoutes } from './metrics.ts';

const logger = pino({ level: 'silent' });

describe('metrics routes', () => {
  let dir: string;
  let store: SqliteStore;
  let app: FastifyInstance;
  let sessions: SessionEngine;
  let metrics: MetricsEngine;
  let logs: LogBook;
  const telemetry = new Telemetry();

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'metrics-routes-'));
    store = timeStoreWrites(SqliteStore.open(join(dir, 'h.db'), { logger }), telemetry);
    const hub = new MemoryHub();
    logs = new LogBook(hub);
    sessions = new SessionEngine({ hub, store, logs, logger });
    metrics = new MetricsEngine({ hub, sessions, store, logs, logger });
    app = Fastify({ bodyLimit: 1024 * 1024 });
    installErrorHandler(app);
    await app.register(metricsRoutes, { metrics, sessions, telemetry });
    sessions.ingestPush(
      {
        session_id: 'weather-app',
        current_phase: 'Builder',
        phase_number: '4/7',
        status: 'in_progress',
      },
      1_000,
    );
  });

  after(async () => {
    await app.close();
    metrics.close();
    sessions.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('GET /api/metrics/:id: sections with reasons; 404 JSON for an unknown session', async () => {
    const ok = await app.inject({ method: 'GET', url: '/api/metrics/weather-app' });
    assert.equal(ok.statusCode, 200);
    const body = ok.json() as SessionMetrics;
    assert.equal(body.sessionId, 'weather-app');
    assert.equal(body.token_usage.data, null);
    assert.match(body.token_usage.reason ?? '', /logs\/ralph_weather-app\/session\.jsonl/);
    const missing = await app.inject({ method: 'GET', url: '/api/metrics/nope' });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().error, 'not_found');
    assert.match(missing.json().message, /No session 'nope'/);
  });

  test('POST /api/agent-update: 400 naming the missing field, 200 and the tree', async () => {
    const noSession = await app.inject({
      method: 'POST',
      url: '/api/agent-update',
      payload: { agent_id: 'a' },
    });
    assert.equal(noSession.statusCode, 400);
    assert.deepEqual(noSession.json(), {
      error: 'bad_request',
      message: 'Invalid agent update: session_id is required.',
    });
    const noAgent = await app.inject({
      method: 'POST',
      url: '/api/agent-update',
      payload: { session_id: 'weather-app' },
    });
    assert.equal(noAgent.statusCode, 400);
    assert.match(noAgent.json().message, /agent_id is required/);
    const wrongType = await app.inject({
      method: 'POST',
      url: '/api/agent-update',
      payload: { session_id: 'weather-app', agent_id: 'a', progress_percent: 'lots' },
    });
    assert.equal(wrongType.statusCode, 400);
    assert.match(wrongType.json().message, /progress_percent/);
    const notJson = await app.inject({
      method: 'POST',
      url: '/api/agent-update',
      headers: { 'content-type': 'application/json' },
      payload: '{"session_id":',
    });
    assert.equal(notJson.statusCode, 400);
    assert.equal(notJson.json().error, 'bad_request');

    const good = await app.inject({
      method: 'POST',
      url: '/api/agent-update',
      payload: {
        session_id: 'weather-app',
        agent_id: 'builder-1',
        status: 'running',
        tokens_used: 1234,
        extra: 'kept',
      },
    });
    assert.equal(good.statusCode, 200);
    assert.deepEqual(good.json(), {
      status: 'received',
      session_id: 'weather-app',
      agent_id: 'builder-1',
      key: 'weather-app',
    });
    const m = (
      await app.inject({ method: 'GET', url: '/api/metrics/weather-app' })
    ).json() as SessionMetrics;
    assert.equal(m.agent_performance.data?.[0]?.tokensUsed, 1234);
    assert.equal(m.token_usage.data?.total, 1234);
  });

  test('POST /api/broadcast/:id: into the log; non-objects 400, oversized 413', async () => {
    const ok = await app.inject({
      method: 'POST',
      url: '/api/broadcast/weather-app',
      payload: { type: 'task_complete', data: { task: 'Build API' } },
    });
    assert.equal(ok.statusCode, 200);
    assert.equal(ok.json().status, 'received');
    assert.deepEqual(
      logs
        .tail('weather-app', 50)
        .filter((l) => l.level === 'event')
        .map((l) => l.text),
      ['task_complete: Build API'],
    );
    const array = await app.inject({
      method: 'POST',
      url: '/api/broadcast/weather-app',
      payload: [1],
    });
    assert.equal(array.statusCode, 400);
    const big = await app.inject({
      method: 'POST',
      url: '/api/broadcast/weather-app',
      payload: { type: 'log_line', data: 'x'.repeat(100_000) },
    });
    assert.equal(big.statusCode, 413);
    assert.equal(big.json().error, 'too_large');
  });

  test('GET /api/analytics', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/analytics' });
    assert.equal(res.statusCode, 200);
    const a = res.json() as Analytics;
    assert.equal(a.sessions, 1);
    assert.equal(a.failureRate, null);
  });

  test('GET /metrics over a real socket: Prometheus text with counters and the store histogram', async () => {
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    assert.ok(address && typeof address === 'object');
    const { status, type, text } = await new Promise<{
      status: number;
      type: string;
      text: string;
    }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: address.port, path: '/metrics' }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), text }),
        );
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(status, 200);
    assert.equal(type, 'text/plain; version=0.0.4; charset=utf-8');
    assert.match(text, /^# TYPE livestream_agent_updates_total counter$/m);
    assert.match(text, /^livestream_agent_updates_total 1$/m);
    assert.match(text, /^livestream_broadcasts_total 1$/m);
    assert.match(text, /^livestream_store_write_seconds_bucket\{le="\+Inf",op="saveAgent"\} 1$/m);
    assert.match(text, /^livestream_store_write_seconds_count\{op="saveSession"\} \d+$/m);
  });
});
