import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { appendFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, test } from 'node:test';
import { LivestreamClient } from '../../src/client/client.ts';
import type { AgentSummary } from '../../src/shared/agents.ts';
import type { PlanDetail, PlanSummary } from '../../src/shared/plans.ts';
import {
  claudeAssistant,
  claudePrompt,
  codexSessionMeta,
  codexTokenCount,
  codexTurnContext,
  lines,
} from '../helpers/agent-transcripts.ts';
import { planText, writeFixtureFile } from '../helpers/plan-fixtures.ts';
import { runCli, type ServerProcess, startServer, waitFor } from '../helpers/server.ts';
import { freePort } from '../helpers/services.ts';

/**
 * `livestream forward` with plan folders and Claude Code transcripts, as
 * child processes against a real `serve` child: what two machines write
 * reaches the central server's plans and agents, kept apart by machine,
 * counted once, and nothing is lost while the server is away.
 */

const dir = await mkdtemp(join(tmpdir(), 'livestream-fwd-pa-'));
const processes: { stop(): Promise<unknown> }[] = [];
const clients: LivestreamClient[] = [];
after(async () => {
  for (const c of clients) c.close();
  for (const p of processes.reverse()) await p.stop();
  await rm(dir, { recursive: true, force: true });
});

const TOKENS = { 'ci-1': 'ci-1-secret-token-0123456789', 'ci-2': 'ci-2-secret-token-0123456789' };
const SESSION = '5e55a0e1-0000-4000-8000-00000000abcd';
const MODEL = 'claude-sonnet-4-5-20250929';
const CODEX = '019a1234-5678-7abc-8def-0123456789ab';
/** Sonnet 4.5 at $3 / $15 per million input / output tokens. */
const cost = (input: number, output: number) => (input * 3 + output * 15) / 1e6;

const central = join(dir, 'central');
await mkdir(central, { recursive: true });
await writeFile(
  join(central, 'tokens'),
  Object.entries(TOKENS)
    .map(([h, t]) => `${h} ${t}`)
    .join('\n'),
);
const port = await freePort();
// The central server follows no agents of its own, yet keeps the forwarded ones (its checkpoint).
const serveArgs = [
  '--root',
  central,
  '--db',
  join(central, 'h.db'),
  '--forwarder-tokens',
  join(central, 'tokens'),
  '--no-agents',
  '--port',
  String(port),
];
let server: ServerProcess = await startServer(serveArgs);
processes.push({ stop: () => server.stop() });
const url = server.url;

/** A build machine: a plan folder named like the other's, a Claude Code session of the same id. */
async function machine(host: keyof typeof TOKENS) {
  const root = join(dir, host);
  const plan = join(root, 'weather-app', 'work-space', 'plans', 'DEMO');
  const claude = join(root, 'claude');
  const codex = join(root, 'codex');
  const transcript = join(claude, 'projects', '-home-dev-weather-app', `${SESSION}.jsonl`);
  await mkdir(join(claude, 'projects', '-home-dev-weather-app'), { recursive: true });
  writeFixtureFile(plan, {
    path: 'PLAN_DEMO.md',
    text: planText('Demo', [
      ['1.1', 'One'],
      ['1.2', 'Two'],
    ]),
  });
  let child: ChildProcess | null = null;
  let output = '';
  const start = () => {
    output = '';
    child = runCli([
      'forward',
      '--to',
      url,
      '--token',
      TOKENS[host],
      '--host',
      host,
      '--root',
      root,
      '--claude-dir',
      claude,
      '--codex-dir',
      codex,
      '--outbox',
      join(root, 'outbox.db'),
    ]);
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
  };
  const kill = async (signal: NodeJS.Signals) => {
    const c = child as ChildProcess | null;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    c.kill(signal);
    await once(c, 'exit');
  };
  processes.push({ stop: () => kill('SIGTERM') });
  let n = 0;
  const respond = (input: number, output: number) => {
    n++;
    return appendFile(
      transcript,
      lines([
        claudePrompt({ sessionId: SESSION, at: Date.now() }, `step ${n}`),
        claudeAssistant(
          { sessionId: SESSION, at: Date.now() },
          {
            messageId: `msg_${host}_${n}`,
            requestId: `req_${host}_${n}`,
            model: MODEL,
            usage: { input, output },
            stopReason: 'end_turn',
            text: 'done',
          },
        ),
      ]),
    );
  };
  start();
  return {
    plan,
    respond,
    restart: async () => {
      await kill('SIGKILL');
      start();
    },
    stop: () => kill('SIGTERM'),
    start,
    output: () => output,
    outboxId: () => {
      const db = new DatabaseSync(join(root, 'outbox.db'), { readOnly: true });
      try {
        return (db.prepare("SELECT value FROM meta WHERE key = 'id'").get() as { value: string })
          .value;
      } finally {
        db.close();
      }
    },
  };
}

async function get<T>(path: string): Promise<T> {
  const response = await fetch(`${url}${path}`);
  assert.equal(response.status, 200, `${path}: ${await response.clone().text()}`);
  return (await response.json()) as T;
}

const plans = () => get<{ plans: PlanSummary[] }>('/api/plans').then((b) => b.plans);
const agents = () => get<{ agents: AgentSummary[] }>('/api/agents').then((b) => b.agents);
const planOf = async (id: string) => (await plans()).find((p) => p.id === id);
const agentOf = async (id: string) => (await agents()).find((a) => a.id === id);
const near = (a: number | undefined, b: number) => a !== undefined && Math.abs(a - b) < 1e-9;

const one = await machine('ci-1');
const two = await machine('ci-2');
await one.respond(1000, 500);
await two.respond(2000, 0);

test('plan folders on two machines reach the plans topic and /api/plans, kept apart by host', async () => {
  const watcher = new LivestreamClient({ url: () => `${url.replace(/^http/, 'ws')}/ws` });
  clients.push(watcher);
  watcher.subscribe('plans');
  watcher.connect();
  const listed = await waitFor(
    async () => {
      const list = await plans();
      return list.length === 2 ? list : undefined;
    },
    20_000,
    `both machines' plans (ci-1: ${one.output()})`,
  );
  assert.deepEqual(
    listed.map((p) => p.id),
    ['DEMO@ci-1', 'DEMO@ci-2'],
  );
  for (const p of listed) {
    assert.equal(p.status, 'not_started');
    assert.deepEqual(p.progress, { done: 0, total: 2 });
  }
  const detail = await get<PlanDetail>('/api/plans/DEMO@ci-1');
  assert.equal(detail.id, 'DEMO@ci-1');

  writeFixtureFile(one.plan, { path: 'execution/feedbacks/APPROVED_11.md' });
  await waitFor(
    async () => ((await planOf('DEMO@ci-1'))?.progress.done === 1 ? true : undefined),
    20_000,
    'the approval on ci-1',
  );
  assert.equal((await planOf('DEMO@ci-1'))?.status, 'in_progress');
  assert.equal((await planOf('DEMO@ci-2'))?.progress.done, 0, 'the other machine’s plan unmoved');
  await waitFor(
    () => {
      const topic = watcher.topic('plans')?.data as
        | { plans: Record<string, PlanSummary> }
        | undefined;
      return topic?.plans['DEMO@ci-1']?.progress.done === 1 ? true : undefined;
    },
    10_000,
    'the plans topic',
  );
});

test('a PLAN file too long for a batch arrives cut, with a warning saying so', async () => {
  const big = join(two.plan, '..', 'BIG');
  const padding = `${'Notes on the plan. '.repeat(80)}\n`.repeat(1000);
  writeFixtureFile(big, { path: 'PLAN_BIG.md', text: planText('Big', [['1.1', 'One']]) + padding });
  const detail = await waitFor(
    async () => {
      const res = await fetch(`${url}/api/plans/BIG@ci-2`);
      return res.status === 200 ? ((await res.json()) as PlanDetail) : undefined;
    },
    20_000,
    `the big plan (ci-2: ${two.output()})`,
  );
  assert.equal(detail.progress.total, 1);
  assert.ok(
    detail.warnings.some((w) => /cut to 1048576 characters to forward it/.test(w)),
    detail.warnings.join('\n'),
  );
});

test('an agent transcript on each machine appears in /api/agents with its cost; the same session id stays two', async () => {
  const a = await waitFor(() => agentOf(`${SESSION}@ci-1`), 20_000, 'ci-1’s agent session');
  const b = await waitFor(() => agentOf(`${SESSION}@ci-2`), 20_000, 'ci-2’s agent session');
  assert.ok(near(a.costUsd, cost(1000, 500)), `ci-1 cost ${a.costUsd}`);
  assert.ok(near(b.costUsd, cost(2000, 0)), `ci-2 cost ${b.costUsd}`);
  assert.equal(a.responses, 1);
  assert.equal(a.usage.output, 500);
});

test('a Codex rollout is forwarded too, as a codex session of its machine', async () => {
  const rollouts = join(dir, 'ci-2', 'codex', 'sessions', '2026', '12', '04');
  await mkdir(rollouts, { recursive: true });
  const at = Date.now();
  await writeFile(
    join(rollouts, `rollout-2026-12-04T02-00-00-${CODEX}.jsonl`),
    lines([
      codexSessionMeta(at, CODEX, '/home/dev/rusty'),
      codexTurnContext(at + 1, 'gpt-5-codex', '/home/dev/rusty'),
      codexTokenCount(
        at + 2,
        { input: 1200, cached: 200, output: 300 },
        { input: 1200, cached: 200, output: 300 },
      ),
    ]),
  );
  const s = await waitFor(
    async () => {
      const a = await agentOf(`${CODEX}@ci-2`);
      return a?.responses === 1 ? a : undefined;
    },
    20_000,
    `the codex session (ci-2: ${two.output()})`,
  );
  assert.equal(s.kind, 'codex');
  assert.equal(s.model, 'gpt-5-codex');
  assert.equal(s.project, 'rusty');
  assert.ok(s.costUsd > 0, `priced: ${s.costUsd}`);
});

test('a resent batch, or a forwarder restarted from its outbox, counts the cost once', async () => {
  const id = `${SESSION}@ci-1`;
  // The batch the forwarder sent first, as after an answer lost on the way: below the mark.
  const response = {
    source: 'agents',
    event: {
      kind: 'event',
      file: '/x.jsonl',
      event: {
        agent: 'claude',
        sessionId: SESSION,
        agentId: null,
        at: Date.now(),
        source: 'transcript',
        type: 'response',
        key: 'msg_resent:req_resent',
        model: MODEL,
        usage: { input: 0, output: 1000, cacheRead: 0, cacheWrite5m: 0, cacheWrite1h: 0 },
        stopReason: 'end_turn',
      },
    },
  };
  const post = async (forwarder: string) => {
    const res = await fetch(`${url}/api/forward`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${TOKENS['ci-1']}`,
      },
      body: JSON.stringify({
        version: 1,
        forwarder,
        host: 'ci-1',
        dropped: 0,
        events: [{ seq: 1, event: response }],
      }),
    });
    assert.equal(res.status, 200, await res.clone().text());
    return (await res.json()) as { applied: number; duplicates: number };
  };
  const ack = await post(one.outboxId());
  assert.deepEqual([ack.applied, ack.duplicates], [0, 1]);
  assert.ok(near((await agentOf(id))?.costUsd, cost(1000, 500)), 'unchanged by the resend');

  await one.restart();
  await waitFor(() => (/Forwarding/.test(one.output()) ? true : undefined), 20_000, 'restart');
  await one.respond(100, 10);
  await waitFor(
    async () => ((await agentOf(id))?.responses === 2 ? true : undefined),
    20_000,
    'the response written after the restart',
  );
  const after = await agentOf(id);
  assert.equal(after?.prompts, 2, 'the transcript was not read again from its start');
  assert.ok(
    near(after?.costUsd, cost(1100, 510)),
    `read once from the outbox's offsets: ${after?.costUsd}`,
  );
});

test('a server killed, away and back: what was written meanwhile arrives, and nothing acknowledged is lost', async () => {
  // kill -9: what it acknowledged must already be on its disk (history, agents checkpoint).
  await server.stop('SIGKILL');
  writeFixtureFile(one.plan, { path: 'execution/feedbacks/APPROVED_12.md' });
  await one.respond(0, 1000);
  await two.respond(10, 0);
  // Both forwarders found the server gone (their queued events wait) before it is back.
  for (const m of [one, two]) {
    await waitFor(() => (/server unreachable/.test(m.output()) ? true : undefined), 20_000, 'away');
  }
  server = await startServer(serveArgs);
  await waitFor(
    async () => ((await planOf('DEMO@ci-1'))?.status === 'complete' ? true : undefined),
    30_000,
    `ci-1's plan complete (ci-1: ${one.output()})`,
  );
  // ci-2's plan did not change while the server was away: sent again to the new server process.
  const other = await waitFor(() => planOf('DEMO@ci-2'), 30_000, 'ci-2’s unchanged plan');
  assert.equal(other.status, 'not_started');
  await waitFor(
    async () => ((await agentOf(`${SESSION}@ci-1`))?.responses === 3 ? true : undefined),
    30_000,
    'ci-1’s response written while away',
  );
  const a = await agentOf(`${SESSION}@ci-1`);
  assert.ok(near(a?.costUsd, cost(1100, 1510)), `ci-1 cost ${a?.costUsd}`);
  const b = await waitFor(
    async () => {
      const s = await agentOf(`${SESSION}@ci-2`);
      return s?.responses === 2 ? s : undefined;
    },
    30_000,
    'ci-2’s response written while away',
  );
  assert.ok(near(b.costUsd, cost(2010, 0)), `ci-2 cost ${b.costUsd}`);
});

test('a plan folder removed while its forwarder was down leaves the central server when it is back', async () => {
  await waitFor(() => planOf('BIG@ci-2'), 20_000, 'the big plan before');
  await two.stop();
  await rm(join(two.plan, '..', 'BIG'), { recursive: true, force: true });
  await two.start();
  await waitFor(
    async () => ((await planOf('BIG@ci-2')) === undefined ? true : undefined),
    20_000,
    `the removed plan gone (ci-2: ${two.output()})`,
  );
  assert.deepEqual(
    (await plans()).map((p) => p.id),
    ['DEMO@ci-1', 'DEMO@ci-2'],
  );
});
