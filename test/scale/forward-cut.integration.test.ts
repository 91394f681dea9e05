import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { appendFile, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli, type ServerProcess, startServer, waitFor } from '../helpers/server.ts';
import { freePort } from '../helpers/services.ts';

/**
 * A forwarder cut off from its server while its build folder takes thousands
 * of file changes (phase files rewritten, log lines appended, over many
 * sessions): when the server is back, everything arrives, nothing twice, and
 * the server holds what the files say. 5,000 changes in `npm test`;
 * LIVESTREAM_FAULTS=full writes 50,000.
 */

const CHANGES = process.env.LIVESTREAM_FAULTS === 'full' ? 50_000 : 5_000;
/** Each session takes 100 changes: its lines stay under what the history keeps (1000). */
const SESSIONS = CHANGES / 100;
const LINES_PER_APPEND = 5;
const OUTBOX_MB = 64;
const TOKEN = 'ci-5-secret-token-0123456789';

interface Session {
  id: string;
  dir: string;
  lines: number;
  phase: string;
}

async function writePhase(session: Session, phase: string): Promise<void> {
  session.phase = phase;
  await writeFile(
    join(session.dir, '.context-foundry', 'current-phase.json'),
    JSON.stringify({
      session_id: session.id,
      current_phase: phase,
      phase_number: '4/7',
      status: 'in_progress',
    }),
  );
}

async function appendLines(session: Session): Promise<void> {
  let text = '';
  for (let i = 0; i < LINES_PER_APPEND; i++) {
    session.lines++;
    text += `${JSON.stringify({ type: 'log_line', session_id: session.id, sequence: session.lines, timestamp: Date.now(), data: { message: `${session.id} line ${session.lines}` } })}\n`;
  }
  await appendFile(join(session.dir, 'logs', 'events', session.id, 'events.jsonl'), text);
}

async function json<T>(url: string): Promise<T> {
  const response = await fetch(url);
  assert.equal(response.status, 200, url);
  return (await response.json()) as T;
}

test(`a forwarder cut off while its build makes ${CHANGES} file changes: all of it arrives, once`, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'livestream-forward-cut-'));
  const processes: ServerProcess[] = [];
  let forwarder: ChildProcess | null = null;
  let forwarderOutput = '';
  let passed = false;
  t.after(async () => {
    forwarder?.kill('SIGKILL');
    if (!passed) t.diagnostic(`forwarder:\n${forwarderOutput}`);
    for (const p of processes) await p.stop('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });
  const own = join(dir, 'central');
  const build = join(dir, 'build-machine');
  await mkdir(own, { recursive: true });
  const tokens = join(dir, 'forwarder-tokens');
  await writeFile(tokens, `ci-5 ${TOKEN}\n`);
  const port = await freePort();
  const args = ['--root', own, '--db', join(own, 'h.db'), '--no-agents'];
  const central = async () => {
    const server = await startServer([
      ...args,
      '--forwarder-tokens',
      tokens,
      '--port',
      String(port),
    ]);
    processes.push(server);
    return server;
  };

  const sessions: Session[] = [];
  for (let i = 0; i < SESSIONS; i++) {
    const id = `cut-${String(i).padStart(3, '0')}`;
    const session = { id, dir: join(build, id), lines: 0, phase: '' };
    await mkdir(join(session.dir, '.context-foundry'), { recursive: true });
    await mkdir(join(session.dir, 'logs', 'events', id), { recursive: true });
    await writePhase(session, 'Step 0');
    sessions.push(session);
  }
  let server = await central();
  const outbox = join(dir, 'outbox.db');
  forwarder = runCli([
    'forward',
    '--to',
    server.url,
    '--token',
    TOKEN,
    '--host',
    'ci-5',
    '--root',
    build,
    '--outbox',
    outbox,
    '--outbox-mb',
    String(OUTBOX_MB),
    '--no-agents',
  ]);
  const collect = (chunk: Buffer) => {
    forwarderOutput += chunk.toString();
  };
  forwarder.stdout?.on('data', collect);
  forwarder.stderr?.on('data', collect);
  const listed = () =>
    json<{ sessions: { id: string; currentPhase: string }[] }>(`${server.url}/api/sessions`);
  await waitFor(
    async () => ((await listed()).sessions.length === SESSIONS ? true : undefined),
    20_000,
    'every session forwarded',
  );

  // Cut off: the server stops; the build goes on, as fast as the disk takes it.
  await server.stop();
  const started = Date.now();
  let outboxPeak = 0;
  // Sixteen writers, each with its own sessions: one session's files change in order.
  const writers = Array.from({ length: 16 }, async (_, w) => {
    const own = sessions.filter((_, i) => i % 16 === w);
    for (let round = 0; round < CHANGES / SESSIONS; round++) {
      for (const session of own) {
        // Four changes in ten rewrite the phase file, six append lines.
        if (round % 10 < 4) await writePhase(session, `Step ${round}`);
        else await appendLines(session);
      }
      if (w === 0 && round % 10 === 0) outboxPeak = Math.max(outboxPeak, (await stat(outbox)).size);
    }
  });
  await Promise.all(writers);
  t.diagnostic(`${CHANGES} changes written in ${Date.now() - started} ms`);
  server = await central();
  const back = Date.now();

  await waitFor(
    async () => {
      const byId = new Map((await listed()).sessions.map((s) => [s.id, s.currentPhase]));
      return sessions.every((s) => byId.get(`${s.id}@ci-5`) === s.phase) ? true : undefined;
    },
    60_000,
    'every session at its last phase',
  );
  for (const session of sessions) {
    const numbers = await waitFor(
      async () => {
        const { lines } = await json<{ lines: { text: string }[] }>(
          `${server.url}/api/logs/${session.id}@ci-5?lines=1000`,
        );
        const found = lines
          .map((l) => Number(new RegExp(`${session.id} line (\\d+)$`).exec(l.text)?.[1]))
          .filter((n) => !Number.isNaN(n));
        return found.at(-1) === session.lines ? found : undefined;
      },
      20_000,
      `${session.id}'s last line`,
    );
    assert.deepEqual(
      numbers,
      Array.from({ length: session.lines }, (_, i) => i + 1),
      `${session.id}: every line, once, in order`,
    );
  }
  // SQLite keeps the file's pages once grown: its size now is at least the peak.
  outboxPeak = Math.max(outboxPeak, (await stat(outbox)).size);
  t.diagnostic(
    `caught up ${Date.now() - back} ms after the server came back; outbox ${Math.round(outboxPeak / 1024)} KiB of ${OUTBOX_MB} MiB`,
  );
  assert.ok(outboxPeak < OUTBOX_MB * 1024 * 1024, 'within the outbox bound');
  assert.match(forwarderOutput, /server unreachable; events wait in the outbox/, 'it was cut off');
  assert.doesNotMatch(forwarderOutput, /dropped/, 'the forwarder dropped nothing');
  assert.doesNotMatch(server.output(), /dropped/, 'the server was told of no drop');
  passed = true;
});
