import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { runCli, type ServerProcess, startServer, waitFor } from './helpers/server.ts';

interface Body {
  status?: string;
  error?: string;
  sessions?: number | { id: string; source: string }[];
  count?: number;
  timeline?: { phase: string }[];
}

async function json(url: string, init?: RequestInit): Promise<{ status: number; body: Body }> {
  const response = await fetch(url, init);
  return { status: response.status, body: (await response.json()) as Body };
}

function sessionsOf(body: Body): { id: string; source: string }[] {
  return Array.isArray(body.sessions) ? body.sessions : [];
}

interface Message {
  type: string;
  data?: { current_phase?: string };
}

async function exitOf(args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = runCli(args, env);
  let out = '';
  child.stdout?.on('data', (c: Buffer) => {
    out += c;
  });
  child.stderr?.on('data', (c: Buffer) => {
    out += c;
  });
  const [code] = (await once(child, 'exit')) as [number];
  return { code, out };
}

function phase(doc: Record<string, unknown>): string {
  return JSON.stringify({
    session_id: 'weather-app',
    phase_number: '1/7',
    status: 'analyzing',
    current_phase: 'Codebase Analysis',
    phases_completed: [],
    started_at: '2025-01-13T00:30:00Z',
    ...doc,
  });
}

/** Collects WebSocket messages and lets a test await the next one. */
class Inbox {
  readonly messages: Message[] = [];
  #waiters: ((m: Message) => void)[] = [];
  constructor(ws: WebSocket) {
    ws.on('message', (data) => {
      const message = JSON.parse(String(data)) as Message;
      const waiter = this.#waiters.shift();
      if (waiter) waiter(message);
      else this.messages.push(message);
    });
  }
  /** The next message of this type; log lines in between are skipped. */
  async nextOf(type: string): Promise<Message> {
    for (;;) {
      const message = await this.next();
      if (message.type === type) return message;
    }
  }

  next(timeoutMs = 5000): Promise<Message> {
    const queued = this.messages.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no WebSocket message')), timeoutMs);
      this.#waiters.push((m) => {
        clearTimeout(timer);
        resolve(m);
      });
    });
  }
}

describe('livestream CLI end to end', () => {
  let dir: string;
  let root: string;
  let db: string;
  let server: ServerProcess;
  const phaseFile = () => join(root, 'weather-app', '.context-foundry', 'current-phase.json');

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'livestream-cli-'));
    root = join(dir, 'root');
    db = join(dir, 'history.db');
    await mkdir(join(root, 'weather-app', '.context-foundry'), { recursive: true });
    server = await startServer(['--root', root, '--db', db]);
  });

  after(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('serves health and says how to get a first session', async () => {
    const health = await json(`${server.url}/api/health`);
    assert.equal(health.status, 200);
    assert.equal(health.body.status, 'healthy');
    assert.equal(health.body.sessions, 0);
    assert.match(server.output(), /livestream demo/);
  });

  test('a phase file becomes a session, pushed over /ws/:id only when it changes', async () => {
    await writeFile(phaseFile(), phase({}));
    const listed = await waitFor(
      async () => {
        const { body } = await json(`${server.url}/api/sessions`);
        return body.count === 1 ? body : undefined;
      },
      5000,
      'the session to appear',
    );
    assert.equal(sessionsOf(listed)[0]?.id, 'weather-app');
    assert.equal(sessionsOf(listed)[0]?.source, 'file');

    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/ws/weather-app`);
    const inbox = new Inbox(ws);
    const first = await inbox.nextOf('status');
    assert.equal(first.type, 'status');
    assert.equal(first.data?.current_phase, 'Codebase Analysis');

    // An identical rewrite sends nothing: the next message is the real change after it.
    await writeFile(phaseFile(), phase({}));
    await writeFile(
      phaseFile(),
      phase({ current_phase: 'Scout', phase_number: '2/7', status: 'researching' }),
    );
    const second = await inbox.nextOf('status');
    assert.equal(second.type, 'status');
    assert.equal(second.data?.current_phase, 'Scout');

    await writeFile(
      phaseFile(),
      phase({ current_phase: 'Deploy', phase_number: '7/7', status: 'completed' }),
    );
    const third = await inbox.nextOf('status');
    assert.equal(third.data?.current_phase, 'Deploy');
    await inbox.nextOf('complete');
    ws.close();
  });

  test('bad input answers 4xx JSON without stack traces', async () => {
    const missing = await json(`${server.url}/api/status/nope`);
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error, 'not_found');
    const bad = await json(`${server.url}/api/phase-update`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"current_phase": ',
    });
    assert.equal(bad.status, 400);
    assert.doesNotMatch(JSON.stringify(bad.body), /at .*\.ts:\d+/);
    const badLines = await json(`${server.url}/api/logs/weather-app?lines=-3`);
    assert.equal(badLines.status, 400);
  });

  test('push sends a file, status lists it', async () => {
    const file = join(dir, 'pushed.json');
    await writeFile(
      file,
      phase({ session_id: 'pushed-build', current_phase: 'Builder', phase_number: '4/7' }),
    );
    const pushed = await exitOf(['push', file, '--url', server.url]);
    assert.equal(pushed.code, 0, pushed.out);
    assert.match(pushed.out, /pushed-build/);
    const status = await exitOf(['status', '--url', server.url, '--json']);
    assert.equal(status.code, 0, status.out);
    const ids = JSON.parse(status.out).sessions.map((s: { id: string }) => s.id);
    assert.deepEqual(ids.sort(), ['pushed-build', 'weather-app']);
  });

  test('push fills session_id from the project folder; --strict says why a 4xx refused it', async () => {
    const project = join(dir, 'todo-cli', '.context-foundry');
    await mkdir(project, { recursive: true });
    const file = join(project, 'current-phase.json');
    // The template's later documents carry no session_id.
    await writeFile(
      file,
      JSON.stringify({ current_phase: 'Test', phase_number: '4/7', status: 'testing' }),
    );
    const pushed = await exitOf(['push', file, '--url', server.url]);
    assert.equal(pushed.code, 0, pushed.out);
    assert.match(pushed.out, /session todo-cli/);
    const bad = join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ session_id: 'x' }));
    const refused = await exitOf(['push', bad, '--url', server.url, '--strict']);
    assert.equal(refused.code, 1, refused.out);
    assert.match(refused.out, /refused: .*current_phase.*\(HTTP 400\)/);
    assert.doesNotMatch(refused.out, /not reachable/);
  });

  test('history survives a restart', async () => {
    await server.stop();
    server = await startServer(['--root', root, '--db', db]);
    const phases = await json(`${server.url}/api/phases/weather-app`);
    assert.equal(phases.status, 200);
    const names = (phases.body.timeline ?? []).map((t) => t.phase);
    assert.deepEqual(names, ['Codebase Analysis', 'Scout', 'Deploy']);
    const completed = await json(`${server.url}/api/sessions?state=completed`);
    assert.deepEqual(
      sessionsOf(completed.body).map((s) => s.id),
      ['weather-app'],
    );
  });
});

describe('livestream status without a server', () => {
  test('reads the folders straight, and says how to get a first session', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'livestream-status-'));
    const empty = await exitOf(['status', '--root', dir]);
    assert.equal(empty.code, 0, empty.out);
    assert.match(empty.out, /No build sessions/);
    assert.match(empty.out, /livestream demo/);

    await mkdir(join(dir, 'todo-api', '.context-foundry'), { recursive: true });
    await writeFile(
      join(dir, 'todo-api', '.context-foundry', 'current-phase.json'),
      phase({ session_id: 'todo-api', current_phase: 'Builder', phase_number: '4.5/8' }),
    );
    const table = await exitOf(['status', '--root', dir]);
    assert.equal(table.code, 0, table.out);
    assert.match(table.out, /^SESSION\s+STATE\s+PHASE/m);
    assert.match(table.out, /todo-api\s+active\s+Builder\s+4\.5\/8\s+56%/);
    const json = await exitOf(['status', '--root', dir, '--json']);
    assert.deepEqual(
      JSON.parse(json.out).sessions.map((s: { id: string }) => s.id),
      ['todo-api'],
    );
    await rm(dir, { recursive: true, force: true });
  });
});

describe('livestream CLI errors', () => {
  test('push fails open without a server, and fails with --strict', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'livestream-push-'));
    const file = join(dir, 'p.json');
    await writeFile(file, phase({}));
    const soft = await exitOf(['push', file, '--url', 'http://127.0.0.1:9', '--timeout', '500']);
    assert.equal(soft.code, 0);
    assert.match(soft.out, /not reachable|no answer/);
    const strict = await exitOf([
      'push',
      file,
      '--url',
      'http://127.0.0.1:9',
      '--timeout',
      '500',
      '--strict',
    ]);
    assert.equal(strict.code, 3);
    await rm(dir, { recursive: true, force: true });
  });

  test('bad flags, a missing root and a busy port are one-line errors with exit codes', async () => {
    const badPort = await exitOf(['serve', '--port', 'eighty']);
    assert.equal(badPort.code, 2);
    assert.match(badPort.out, /invalid port 'eighty'/);
    const noRoot = await exitOf(['serve', '--port', '0', '--root', '/nonexistent/livestream-root']);
    assert.equal(noRoot.code, 3);
    assert.match(noRoot.out, /cannot read root/);
    const lan = await exitOf(['serve', '--port', '0', '--host', '0.0.0.0']);
    assert.equal(lan.code, 2);
    assert.match(lan.out, /--token/);

    const blocker = createServer();
    blocker.listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    const port = (blocker.address() as { port: number }).port;
    const dir = await mkdtemp(join(tmpdir(), 'livestream-port-'));
    const busy = await exitOf([
      'serve',
      '--port',
      String(port),
      '--root',
      dir,
      '--db',
      join(dir, 'x.db'),
    ]);
    blocker.close();
    assert.equal(busy.code, 3);
    assert.match(busy.out, /already in use/);
    await rm(dir, { recursive: true, force: true });
  });
});
