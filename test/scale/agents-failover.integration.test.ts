import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { appendFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, test } from 'node:test';
import type { AgentSummary } from '../../src/shared/agents.ts';
import { claudeAssistant, claudePrompt, lines } from '../helpers/agent-transcripts.ts';
import { runCli, type ServerProcess, startServer, waitFor } from '../helpers/server.ts';
import {
  freePort,
  type PostgresServer,
  type RedisServer,
  startPostgres,
  startRedis,
} from '../helpers/services.ts';

/**
 * Forwarded agent sessions survive the writer replica: `serve --store pg
 * --bus redis --no-agents` child processes, a `livestream forward` child
 * shipping a Claude Code transcript, and kill -9 of the writer after the
 * forwarder was acknowledged (so nothing is sent again). The promoted writer
 * restores the agents' checkpoint and journal from PostgreSQL, not from the
 * dead one's disk: the session keeps its cost and tokens, and new lines add
 * to it, nothing counted twice. Twice over, so each writer's journal is read
 * by the next; then a graceful stop, whose last checkpoint the next restores.
 */

const TOKEN = 'ci-1-secret-token-0123456789';
const SESSION = '5e55a0e1-0000-4000-8000-0000000fa110';
const ID = `${SESSION}@ci-1`;
const MODEL = 'claude-sonnet-4-5-20250929';
/** Sonnet 4.5 at $3 / $15 per million input / output tokens. */
const cost = (input: number, output: number) => (input * 3 + output * 15) / 1e6;

let pg: PostgresServer;
let redis: RedisServer;
let dir: string;
const processes: { stop(signal?: NodeJS.Signals): Promise<unknown> }[] = [];

before(async () => {
  [pg, redis] = await Promise.all([startPostgres(), startRedis()]);
  dir = await mkdtemp(join(tmpdir(), 'livestream-agents-failover-'));
});
after(async () => {
  for (const p of processes.reverse()) await p.stop('SIGKILL');
  await redis?.close();
  await pg?.close();
  await rm(dir, { recursive: true, force: true });
});

let replicas = 0;
/** A replica with its own folder (no disk shared with the others), on `port`. */
async function replica(port: number): Promise<ServerProcess> {
  const own = join(dir, `replica-${++replicas}`);
  await mkdir(own, { recursive: true });
  await writeFile(join(own, 'tokens'), `ci-1 ${TOKEN}\n`);
  const server = await startServer([
    '--root',
    own,
    '--db',
    join(own, 'alerts.db'),
    '--store',
    pg.url,
    '--bus',
    `${redis.url}?lease_ms=1500&prefix=agents:`,
    '--no-agents',
    '--forwarder-tokens',
    join(own, 'tokens'),
    '--port',
    String(port),
  ]);
  processes.push(server);
  return server;
}

async function agentOn(url: string): Promise<AgentSummary | undefined> {
  try {
    const response = await fetch(`${url}/api/agents`);
    if (response.status !== 200) return undefined;
    const body = (await response.json()) as { agents: AgentSummary[] };
    return body.agents.find((a) => a.id === ID);
  } catch {
    return undefined; // A replica between roles, or a writer just killed.
  }
}

/** Waits until `url` shows the session with `responses` responses. */
function sessionWith(url: string, responses: number, what: string): Promise<AgentSummary> {
  return waitFor(
    async () => {
      const s = await agentOn(url);
      return s && s.responses >= responses ? s : undefined;
    },
    30_000,
    what,
  );
}

test('kill -9 the writer twice, then stop one: each new writer shows the forwarded agent session, counted once', async () => {
  const [portA, portB, portC] = await Promise.all([freePort(), freePort(), freePort()]);
  const a = await replica(portA);
  assert.match(a.output(), /Replica \(writer\)/);
  let b = await replica(portB);
  assert.match(b.output(), /Replica \(follower\)/);

  // The build machine: a Claude Code transcript, forwarded to b (which passes it to the writer).
  const machine = join(dir, 'ci-1');
  const projects = join(machine, 'claude', 'projects', '-home-dev-weather-app');
  await mkdir(projects, { recursive: true });
  await mkdir(join(machine, 'codex'), { recursive: true });
  await mkdir(join(machine, 'builds'), { recursive: true });
  const transcript = join(projects, `${SESSION}.jsonl`);
  const outbox = join(machine, 'outbox.db');
  let n = 0;
  const spent = { input: 0, output: 0 };
  const respond = (input: number, output: number) => {
    n++;
    spent.input += input;
    spent.output += output;
    return appendFile(
      transcript,
      lines([
        claudePrompt({ sessionId: SESSION, at: Date.now() }, `step ${n}`),
        claudeAssistant(
          { sessionId: SESSION, at: Date.now() },
          {
            messageId: `msg_${n}`,
            requestId: `req_${n}`,
            model: MODEL,
            usage: { input, output },
            stopReason: 'end_turn',
            text: 'done',
          },
        ),
      ]),
    );
  };
  await respond(1000, 500);
  await respond(2000, 100);
  await respond(300, 30);
  let forwarderOutput = '';
  const forwarder: ChildProcess = runCli([
    'forward',
    '--to',
    b.url,
    '--token',
    TOKEN,
    '--host',
    'ci-1',
    '--root',
    join(machine, 'builds'),
    '--claude-dir',
    join(machine, 'claude'),
    '--codex-dir',
    join(machine, 'codex'),
    '--outbox',
    outbox,
  ]);
  forwarder.stdout?.on('data', (chunk: Buffer) => {
    forwarderOutput += chunk.toString();
  });
  forwarder.stderr?.on('data', (chunk: Buffer) => {
    forwarderOutput += chunk.toString();
  });
  processes.push({
    stop: async () => {
      if (forwarder.exitCode !== null || forwarder.signalCode !== null) return;
      forwarder.kill('SIGKILL');
      await once(forwarder, 'exit');
    },
  });

  /** Acknowledged: the forwarder dropped every event from its outbox (it never sends them again). */
  const acknowledged = (what: string) =>
    waitFor(
      () => {
        const db = new DatabaseSync(outbox, { readOnly: true });
        try {
          const { n } = db.prepare('SELECT count(*) AS n FROM outbox').get() as { n: number };
          return n === 0 ? true : undefined;
        } finally {
          db.close();
        }
      },
      20_000,
      `${what} acknowledged (forwarder: ${forwarderOutput})`,
    );
  const expectCounted = (s: AgentSummary | undefined, where: string) => {
    assert.ok(s, `the session on ${where}`);
    assert.equal(s.responses, n, `${where}: responses`);
    assert.equal(s.prompts, n, `${where}: prompts`);
    assert.equal(s.usage.input, spent.input, `${where}: input tokens`);
    assert.equal(s.usage.output, spent.output, `${where}: output tokens`);
    assert.ok(
      Math.abs(s.costUsd - cost(spent.input, spent.output)) < 1e-9,
      `${where}: cost ${s.costUsd}, expected ${cost(spent.input, spent.output)}`,
    );
  };

  expectCounted(await sessionWith(a.url, 3, `the session on the writer (${forwarderOutput})`), 'a');
  await acknowledged('the first three responses');
  const journaled = Number(await pg.psql('SELECT count(*) FROM agent_journal'));
  assert.ok(journaled > 0, 'the forwarded inputs are in PostgreSQL’s agents journal');

  // kill -9 the writer: b takes the lease and restores the agents from PostgreSQL.
  await a.stop('SIGKILL');
  expectCounted(await sessionWith(b.url, 3, 'the session on the promoted b'), 'b');
  await respond(50, 5000);
  await respond(10, 1);
  expectCounted(await sessionWith(b.url, 5, 'new responses on b'), 'b, after new lines');
  await acknowledged('the two responses sent to b');

  // Again: a new replica c follows, b is killed, c is promoted and reads a's and b's journal.
  const c = await replica(portC);
  assert.match(c.output(), /Replica \(follower\)/);
  await b.stop('SIGKILL');
  expectCounted(await sessionWith(c.url, 5, 'the session on the promoted c'), 'c');
  // b comes back on its port as a follower of c, so the forwarder reaches the writer again.
  b = await replica(portB);
  await respond(7, 70);
  expectCounted(await sessionWith(c.url, 6, 'a response after the second failover'), 'c, after');
  await acknowledged('the response sent after the second failover');
  expectCounted(await agentOn(b.url), 'b as a follower');

  // A graceful handover: c's last checkpoint covers its journal, b restores from the checkpoint.
  assert.equal(await c.stop('SIGTERM'), 0);
  assert.equal(
    await pg.psql('SELECT count(*) FROM agent_journal'),
    '0',
    'covered by the checkpoint',
  );
  const rows = (await pg.psql('SELECT id FROM agent_sessions')).split('\n');
  assert.ok(rows.includes(ID), `the session's checkpoint row (${rows.join(', ')})`);
  expectCounted(await sessionWith(b.url, 6, 'the session on b, from the checkpoint'), 'b, again');
  await respond(1, 1);
  expectCounted(await sessionWith(b.url, 7, 'a response after the handover'), 'b, after');
});
