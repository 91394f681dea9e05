import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestServer, type TestServer } from '../../../test/helpers/ws-server.ts';
import type { LogLine, SessionDetail, SessionStatus } from '../../shared/model.ts';
import type { LegacyMessage } from '../../shared/protocol.ts';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.close());

function detail(id: string, patch: Partial<SessionStatus> = {}): SessionDetail {
  return {
    status: {
      id,
      sessionId: id,
      projectDir: `/tmp/${id}`,
      source: 'file',
      currentPhase: 'Test',
      phaseNumber: { raw: '4/7', current: 4, total: 7 },
      status: 'testing',
      state: 'active',
      progressDetail: 'Running test suite',
      testIteration: 2,
      phasesCompleted: ['Scout', 'Architect', 'Builder'],
      startedAt: Date.UTC(2025, 0, 13, 0, 30),
      reportedAt: Date.UTC(2025, 0, 13, 0, 35),
      firstSeenAt: 1,
      changedAt: 2,
      progressPercent: 57,
      etaAt: null,
      warnings: [],
      extras: { parallel_execution: true },
      ...patch,
    },
    timeline: [],
  };
}

function line(n: number, text: string): LogLine {
  return { n, at: n, level: 'info', text };
}

/** A legacy client: the messages so far and a way to await the k-th. */
function legacyClient(id: string) {
  const ws = new WebSocket(`${server.url}/ws/${encodeURIComponent(id)}`);
  const messages: LegacyMessage[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  ws.addEventListener('message', (event) => {
    messages.push(JSON.parse(String(event.data)) as LegacyMessage);
    for (const w of waiters.filter((w) => messages.length >= w.count)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  });
  const count = (n: number) =>
    messages.length >= n
      ? Promise.resolve()
      : new Promise<void>((resolve) => waiters.push({ count: n, resolve }));
  return { ws, messages, count };
}

test('status on connect, then only on change; complete once; log lines', async () => {
  const { hub } = server;
  hub.set('session:weather', detail('weather'));
  const client = legacyClient('weather');
  await client.count(1);
  const first = client.messages[0];
  assert.equal(first?.type, 'status');
  assert.deepEqual(first?.data, {
    parallel_execution: true,
    session_id: 'weather',
    current_phase: 'Test',
    phase_number: '4/7',
    status: 'testing',
    progress_detail: 'Running test suite',
    test_iteration: 2,
    phases_completed: ['Scout', 'Architect', 'Builder'],
    started_at: '2025-01-13T00:30:00.000Z',
    last_updated: '2025-01-13T00:35:00.000Z',
    is_complete: false,
    source: 'file',
    progress_percent: 57,
    warnings: [],
  });

  // Identical data (a new object), and a change invisible to the legacy view: nothing sent.
  hub.set('session:weather', detail('weather'));
  hub.set('session:weather', detail('weather', { firstSeenAt: 5 }));
  hub.append('logs:weather', [line(1, 'npm test'), line(2, '12 passing')], 100);
  await client.count(3);
  assert.deepEqual(client.messages.slice(1), [
    { type: 'log', data: 'npm test' },
    { type: 'log', data: '12 passing' },
  ]);

  const done = { currentPhase: 'Deploy', status: 'completed', state: 'completed' as const };
  hub.set('session:weather', detail('weather', done));
  hub.set('session:weather', detail('weather', { ...done, progressDetail: 'Deployed' }));
  await client.count(6);
  assert.deepEqual(
    client.messages.slice(3).map((m) => m.type),
    ['status', 'complete', 'status'],
  );
  assert.deepEqual(client.messages[4], { type: 'complete', message: 'Session completed!' });
  hub.append('logs:weather', [line(3, 'bye')], 100);
  await client.count(7);
  assert.equal(client.messages.filter((m) => m.type === 'complete').length, 1);
  client.ws.close();
});

test('an unknown session gets data null and its status once the build appears', async () => {
  const client = legacyClient('later@folder');
  await client.count(1);
  assert.deepEqual(client.messages[0], { type: 'status', data: null });
  server.hub.set('session:later@folder', detail('later@folder'));
  await client.count(2);
  assert.equal(client.messages[1]?.type, 'status');
  const data = client.messages[1]?.data as { session_id?: string } | undefined;
  assert.equal(data?.session_id, 'later@folder');
  client.ws.close();
});

test('a session already completed gets status then complete on connect', async () => {
  server.hub.set('session:old', detail('old', { state: 'completed', status: 'completed' }));
  const client = legacyClient('old');
  await client.count(2);
  assert.deepEqual(
    client.messages.map((m) => m.type),
    ['status', 'complete'],
  );
  client.ws.close();
});
