import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { AgentSummary } from '../src/shared/agents.ts';
import { claudeAssistant, claudePrompt, lines } from './helpers/agent-transcripts.ts';
import { runCli, type ServerProcess, startServer, waitFor } from './helpers/server.ts';

const SID = 'feed0000-1111-4222-8333-444455556666';
let dir = '';
let server: ServerProcess | null = null;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ls-agents-cli-'));
  const project = join(dir, 'claude', 'projects', '-home-dev-shop');
  await mkdir(project, { recursive: true });
  await mkdir(join(dir, 'builds'));
  const at = Date.now() - 10_000;
  await writeFile(
    join(project, `${SID}.jsonl`),
    lines([
      claudePrompt({ sessionId: SID, at, cwd: '/home/dev/shop' }, 'add checkout'),
      claudeAssistant(
        { sessionId: SID, at: at + 5, cwd: '/home/dev/shop' },
        {
          messageId: 'm1',
          requestId: 'r1',
          usage: { input: 2000, output: 10_000, cacheRead: 100_000 },
          text: 'ok',
        },
      ),
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
  ]);
});
after(async () => {
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function output(args: string[]): Promise<{ code: number | null; stdout: string }> {
  const child = runCli(args);
  let stdout = '';
  child.stdout?.on('data', (c: Buffer) => {
    stdout += c.toString();
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout };
}

// Sonnet 4.5: 2000 × $3 + 10,000 × $15 + 100,000 × $0.30 per million.
const COST = (2000 * 3 + 10_000 * 15 + 100_000 * 0.3) / 1e6;

describe('agent sessions on the command line', () => {
  test('status --json lists agent sessions with tokens and cost', async () => {
    const url = server?.url as string;
    await waitFor(async () => {
      const r = await fetch(`${url}/api/agents`);
      const body = (await r.json()) as { count: number };
      return body.count === 1 ? true : undefined;
    });
    const { code, stdout } = await output(['status', '--url', url, '--json']);
    assert.equal(code, 0);
    const body = JSON.parse(stdout) as { agents: AgentSummary[]; agentCostUsd: number };
    assert.equal(body.agents.length, 1);
    const a = body.agents[0] as AgentSummary;
    assert.equal(a.id, SID);
    assert.equal(a.project, 'shop');
    assert.deepEqual(a.usage, {
      input: 2000,
      output: 10_000,
      cacheRead: 100_000,
      cacheWrite5m: 0,
      cacheWrite1h: 0,
    });
    assert.equal(a.costUsd, COST);
    assert.equal(body.agentCostUsd, COST);
  });

  test('status prints the agents table with tokens beside cost', async () => {
    const { code, stdout } = await output(['status', '--url', server?.url as string]);
    assert.equal(code, 0);
    assert.match(stdout, /AGENT\s+KIND\s+PROJECT\s+STATE\s+MODEL\s+TOKENS\s+COST/);
    assert.match(
      stdout,
      /feed0000\s+claude\s+shop\s+working\s+claude-sonnet-4-5-20250929\s+112k\s+\$0\.19/,
    );
  });

  test('/metrics reports agent cost and tokens', async () => {
    const text = await (await fetch(`${server?.url}/metrics`)).text();
    assert.match(text, new RegExp(`livestream_agent_cost_usd ${COST}`));
    assert.match(text, /livestream_agent_tokens\{kind="cacheRead"\} 100000/);
    assert.match(text, /livestream_agent_sessions\{state="working"\} 1/);
  });
});
