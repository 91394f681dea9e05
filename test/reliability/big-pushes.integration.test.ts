/**
 * Issue 14.2 against a real `livestream serve` child: ten pushes of about
 * 1 MB each (a thousand extra fields, a megabyte phase name, detail line,
 * status or phase list, one huge value, an object of 60,000 keys) used to
 * put ~10 MB into the `sessions` topic, past the 8 MiB send limit, so every
 * viewer was closed with 4008, reconnected and was closed again, and the
 * stored sessions brought that back after every restart. Now each field is
 * bounded, the list carries no extras, viewers stay connected, and the whole
 * extras are served on demand, before and after a restart.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import WebSocket from 'ws';
import { SqliteStore } from '../../src/store/sqlite-store.ts';
import { sessionStatus } from '../helpers/fixtures.ts';
import { type ServerProcess, startServer, waitFor } from '../helpers/server.ts';
import { closeSocket, nextMessage } from '../security/helpers.ts';

const MB = 1_000_000;

/** Ten bodies of about 1 MB each (the HTTP limit is 1 MiB), one per session. */
function bodies(): Record<string, unknown>[] {
  const base = (i: number) => ({
    session_id: `big-${i}`,
    current_phase: 'Builder',
    status: 'active',
  });
  const fields = (i: number) => {
    const body: Record<string, unknown> = base(i);
    for (let k = 0; k < 1000; k++) body[`field_${k}`] = `${k}:${'x'.repeat(985)}`;
    return body;
  };
  return [
    fields(0),
    { ...base(1), progress_detail: 'd'.repeat(MB) },
    { ...base(2), current_phase: 'P'.repeat(MB) },
    {
      ...base(3),
      phases_completed: Array.from({ length: 9000 }, (_, k) => `${k}${'p'.repeat(100)}`),
    },
    { ...base(4), artifacts: 'a'.repeat(MB) },
    {
      ...base(5),
      many: Object.fromEntries(Array.from({ length: 60_000 }, (_, k) => [`k${k}`, k])),
    },
    { ...base(6), status: 's'.repeat(MB) },
    { ...base(7), phase_number: `1/${'9'.repeat(MB)}` },
    fields(8),
    fields(9),
  ];
}

interface Viewer {
  ws: WebSocket;
  closes: number[];
  snapshotBytes: number;
  /** The first snapshot's data. */
  data: unknown;
}

/** A dashboard client subscribed to the sessions list; its snapshot's size noted. */
async function viewer(server: ServerProcess, topics = ['sessions']): Promise<Viewer> {
  const ws = new WebSocket(`${server.url.replace('http', 'ws')}/ws`);
  const closes: number[] = [];
  ws.on('close', (code) => closes.push(code));
  await nextMessage(ws, (m) => m.type === 'welcome');
  const snapshot = new Promise<{ bytes: number; data: unknown }>((resolve, reject) => {
    const onMessage = (data: WebSocket.RawData) => {
      const text = String(data);
      const message = JSON.parse(text) as { type: string; data: unknown };
      if (message.type !== 'snapshot') return;
      ws.off('message', onMessage);
      resolve({ bytes: text.length, data: message.data });
    };
    ws.on('message', onMessage);
    ws.once('close', (code, reason) =>
      reject(new Error(`closed (${code} ${String(reason)}) before the snapshot`)),
    );
  });
  ws.send(JSON.stringify({ type: 'subscribe', topics }));
  const { bytes, data } = await snapshot;
  return { ws, closes, snapshotBytes: bytes, data };
}

async function json(server: ServerProcess, path: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${server.url}${path}`);
  assert.equal(response.status, 200, path);
  return (await response.json()) as Record<string, unknown>;
}

describe('ten 1 MB pushes', () => {
  let dir = '';
  let server: ServerProcess;
  const servers: ServerProcess[] = [];
  const sent = bodies();
  const serve = async () => {
    const s = await startServer(['--root', dir, '--db', join(dir, 'ls.db')]);
    servers.push(s);
    return s;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ls-big-'));
    server = await serve();
  });
  after(async () => {
    for (const s of servers) await s.stop('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it('are accepted while the dashboard stays connected', async () => {
    const watching = await viewer(server);
    for (const body of sent) {
      const text = JSON.stringify(body);
      assert.ok(text.length > 850_000 && text.length < 1024 * 1024, `${text.length} bytes`);
      const response = await fetch(`${server.url}/api/phase-update`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: text,
      });
      assert.equal(response.status, 200, await response.text());
    }
    // The viewer saw the last push arrive, and was never closed.
    await nextMessage(
      watching.ws,
      (m) => m.type === 'delta' && JSON.stringify(m).includes('big-9'),
    ).catch(() => undefined);
    const list = await viewer(server);
    assert.deepEqual(watching.closes, []);
    assert.ok(list.snapshotBytes < 64 * 1024, `sessions snapshot of ${list.snapshotBytes} bytes`);
    const ids = Object.keys(
      ((await json(server, '/api/sessions')) as { sessions: { id: string }[] }).sessions.map(
        (s) => s.id,
      ),
    );
    assert.equal(ids.length, 10);
    for (const v of [watching, list]) await closeSocket(v.ws);
  });

  it('leave every status and session topic small', async () => {
    for (let i = 0; i < 10; i++) {
      const page = await viewer(server, [`session:big-${i}`]);
      assert.ok(page.snapshotBytes < 32 * 1024, `session:big-${i}: ${page.snapshotBytes} bytes`);
      assert.deepEqual(page.closes, []);
      await closeSocket(page.ws);
    }
    const status = await json(server, '/api/status/big-2');
    assert.ok(String(status.currentPhase).length <= 120);
    assert.ok(String(status.currentPhase).endsWith('…'));
  });

  it('as agent updates with megabyte metadata, leave the metrics topic small', async () => {
    for (let i = 0; i < 10; i++) {
      const metadata: Record<string, string> = {};
      for (let k = 0; k < 1000; k++) metadata[`m${i}_${k}`] = 'm'.repeat(980);
      const response = await fetch(`${server.url}/api/agent-update`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ session_id: 'big-0', agent_id: `agent-${i}`, metadata }),
      });
      assert.equal(response.status, 200, await response.text());
    }
    const page = await viewer(server, ['metrics:big-0']);
    assert.ok(page.snapshotBytes < 128 * 1024, `metrics:big-0: ${page.snapshotBytes} bytes`);
    assert.deepEqual(page.closes, []);
    await closeSocket(page.ws);
  });

  const extrasHeld = async (s: ServerProcess) => {
    const status = await json(s, '/api/status/big-0');
    assert.ok(Number(status.extrasOmitted) >= 990, `extrasOmitted ${status.extrasOmitted}`);
    const whole = await json(s, '/api/sessions/big-0/extras');
    const {
      session_id: _id,
      current_phase: _p,
      status: _s,
      ...fields
    } = sent[0] as Record<string, unknown>;
    assert.equal(whole.session_id, 'big-0');
    assert.deepEqual(whole.extras, fields);
    const artifacts = await json(s, '/api/sessions/big-4/extras');
    assert.equal((artifacts.extras as { artifacts: string }).artifacts.length, MB);
  };

  it('keep the whole extras available on demand', async () => {
    await extrasHeld(server);
    // A ralph checkpoint's extras (state.json fields and progress.json) likewise.
    const folder = join(dir, 'checkpoints', 'ralph', 'ralph-big');
    await mkdir(folder, { recursive: true });
    const state = {
      session_id: 'ralph-big',
      current_phase: 'architect',
      artifacts: { research: 'r'.repeat(80_000), spec: 's'.repeat(80_000) },
      iteration: 2,
    };
    // progress.json first: a state.json seen alone is a session already, without its progress.
    await writeFile(
      join(folder, 'progress.json'),
      JSON.stringify({ completed: ['a'], remaining: ['b'] }),
    );
    await writeFile(join(folder, 'state.json'), JSON.stringify(state));
    const whole = await waitFor(
      async () => {
        const response = await fetch(`${server.url}/api/sessions/ralph-big/extras`);
        if (response.status !== 200) return undefined;
        const body = (await response.json()) as { extras: Record<string, unknown> };
        // The files may be read apart (a re-read follows): wait for both.
        return 'progress' in body.extras ? body : undefined;
      },
      10_000,
      'the checkpoint session',
    );
    assert.deepEqual(whole.extras, {
      artifacts: state.artifacts,
      iteration: 2,
      progress: { completed: ['a'], remaining: ['b'] },
    });
    const status = await json(server, '/api/status/ralph-big');
    assert.match(JSON.stringify(status.extras), /KB of text \(not shown\)/);
    const missing = await fetch(`${server.url}/api/sessions/nobody/extras`);
    assert.equal(missing.status, 404);
  });

  it('after a restart: the dashboard connects and stays, the extras are still served', async () => {
    await server.stop();
    server = await serve();
    const list = await viewer(server);
    assert.ok(list.snapshotBytes < 64 * 1024, `sessions snapshot of ${list.snapshotBytes} bytes`);
    const ping = nextMessage(list.ws, (m) => m.type === 'pong');
    list.ws.send(JSON.stringify({ type: 'ping', id: 1 }));
    await ping;
    assert.deepEqual(list.closes, []);
    await extrasHeld(server);
    await closeSocket(list.ws);
  });

  it('written to history before the limits existed: bounded when the server restores it', async () => {
    // A database as an earlier version left it: the status and a transition hold megabytes.
    await server.stop();
    const db = join(dir, 'ls.db');
    const store = SqliteStore.open(db, { logger: pino({ level: 'silent' }) });
    const extras: Record<string, string> = {};
    for (let k = 0; k < 1000; k++) extras[`old_${k}`] = 'o'.repeat(990);
    const at = Date.now();
    await store.saveSession(
      sessionStatus('old-big', {
        currentPhase: 'Q'.repeat(MB),
        progressDetail: 'q'.repeat(MB),
        extras,
        firstSeenAt: at,
        changedAt: at,
      }),
      { session_id: 'old-big', current_phase: 'Q'.repeat(10), status: 'active', ...extras },
    );
    await store.addTransition({
      sessionKey: 'old-big',
      from: null,
      to: 'Q'.repeat(MB),
      at,
      phaseNumber: null,
      status: 'active',
    });
    await store.close();
    server = await serve();
    const list = await viewer(server);
    assert.ok(list.snapshotBytes < 64 * 1024, `sessions snapshot of ${list.snapshotBytes} bytes`);
    const page = await viewer(server, ['session:old-big']);
    assert.ok(page.snapshotBytes < 32 * 1024, `session:old-big: ${page.snapshotBytes} bytes`);
    const whole = await json(server, '/api/sessions/old-big/extras');
    assert.equal(Object.keys(whole.extras as object).length, 1000);
    for (const v of [list, page]) await closeSocket(v.ws);
  });
});

describe('a sessions list over its size budget', () => {
  let dir = '';
  let server: ServerProcess | null = null;
  after(async () => {
    await server?.stop('SIGKILL');
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('is sent summarised, never as a reason to disconnect', async () => {
    // 1,000 sessions with every field at its limit: ~5 MB of list entries whole.
    dir = await mkdtemp(join(tmpdir(), 'ls-budget-'));
    const db = join(dir, 'ls.db');
    const store = SqliteStore.open(db, { logger: pino({ level: 'silent' }) });
    const at = Date.now() - 1_000_000;
    const phases = Array.from({ length: 32 }, (_, i) => `${i}${'p'.repeat(119)}`);
    for (let i = 0; i < 1000; i++) {
      const id = `wide-${String(i).padStart(4, '0')}`;
      const status = sessionStatus(id, {
        state: 'completed',
        status: 'completed',
        progressDetail: 'd'.repeat(1000),
        phasesCompleted: phases,
        firstSeenAt: at + i,
        changedAt: at + i,
      });
      void store.saveSession(status, { session_id: id, current_phase: 'Builder' });
    }
    await store.close();
    server = await startServer(['--root', dir, '--db', db, '--no-agents']);
    const list = await viewer(server);
    assert.ok(list.snapshotBytes <= 4.2 * 1024 * 1024, `${list.snapshotBytes} bytes`);
    assert.ok(list.snapshotBytes > 1024 * 1024, 'the budget is used, not a tiny list');
    const { sessions, omitted } = list.data as {
      sessions: Record<string, { progressDetail: string | null }>;
      omitted?: number;
    };
    assert.equal(Object.keys(sessions).length, 1000, 'every session listed');
    assert.equal(omitted, undefined);
    assert.equal(sessions['wide-0999']?.progressDetail?.length, 1000, 'the newest whole');
    assert.equal(sessions['wide-0000']?.progressDetail, null, 'the oldest summarised');
    const snapshot = (await json(server, '/api/sessions')) as { count: number };
    assert.equal(snapshot.count, 1000, 'GET /api/sessions lists every one');
    const page = (await json(server, '/api/sessions?limit=100&offset=900')) as {
      sessions: { id: string }[];
      count: number;
      total: number;
    };
    assert.deepEqual([page.count, page.total], [100, 1000]);
    assert.equal(page.sessions[0]?.id, 'wide-0099', 'pages in list order, newest first');
    assert.equal((await fetch(`${server.url}/api/sessions?limit=0`)).status, 400);
    const ping = nextMessage(list.ws, (m) => m.type === 'pong');
    list.ws.send(JSON.stringify({ type: 'ping', id: 2 }));
    await ping;
    assert.deepEqual(list.closes, []);
    await closeSocket(list.ws);
  });
});
