import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
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

  test('POST /api/hooks answers at once, shows the tool call, and refuses payloads missing fields', async () => {
    const url = server?.url as string;
    const post = (body: unknown) =>
      fetch(`${url}/api/hooks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const hookSession = 'cafe0000-1111-4222-8333-444455556666';
    const ok = await post({
      session_id: hookSession,
      transcript_path: '/nowhere.jsonl',
      cwd: '/home/dev/api',
      hook_event_name: 'PreToolUse',
      tool_name: 'Bash',
      tool_input: { command: 'npm test' },
      tool_use_id: 'toolu_hook',
    });
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), {});
    const detail = await waitFor(async () => {
      const r = await fetch(`${url}/api/agents/${hookSession}`);
      return r.status === 200
        ? ((await r.json()) as { tools: { id: string; summary: string }[] })
        : undefined;
    });
    assert.deepEqual(
      detail.tools.map((t) => [t.id, t.summary]),
      [['toolu_hook', 'npm test']],
    );
    const bad = await post({ hook_event_name: 'Stop' });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { message: string }).message, /session_id/);
    const garbage = await fetch(`${url}/api/hooks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"session',
    });
    assert.equal(garbage.status, 400);
    const unknown = await post({ session_id: hookSession, hook_event_name: 'FutureEvent' });
    assert.equal(unknown.status, 200);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    assert.match(metrics, /livestream_hooks_received_total\{result="rejected"\} 1/);
    assert.match(metrics, /livestream_hooks_received_total\{result="ignored"\} 1/);
  });

  test('hooks install --dry-run shows the diff, install merges, uninstall removes exactly it', async () => {
    const project = join(dir, 'proj');
    const settings = join(project, '.claude', 'settings.json');
    await mkdir(join(project, '.claude'), { recursive: true });
    const original = `${JSON.stringify({ permissions: { allow: ['Bash(npm test)'] }, hooks: { Stop: [{ hooks: [{ type: 'command', command: 'say done' }] }] } }, null, 2)}\n`;
    await writeFile(settings, original);
    const url = 'http://127.0.0.1:9999';
    const dry = await output(['hooks', 'install', '--project', project, '--url', url, '--dry-run']);
    assert.equal(dry.code, 0);
    assert.match(dry.stdout, /\+ +"url": "http:\/\/127\.0\.0\.1:9999\/api\/hooks"/);
    assert.equal(await readFile(settings, 'utf8'), original, '--dry-run writes nothing');

    const install = await output([
      'hooks',
      'install',
      '--project',
      project,
      '--url',
      url,
      '--token',
      's3cret',
    ]);
    assert.equal(install.code, 0);
    const written = await readFile(settings, 'utf8');
    assert.ok(!written.includes('s3cret'), 'the token itself is never written');
    const parsed = JSON.parse(written) as {
      hooks: Record<string, { hooks: { type: string; headers?: object }[] }[]>;
      permissions: unknown;
    };
    assert.deepEqual(parsed.permissions, { allow: ['Bash(npm test)'] });
    assert.equal(parsed.hooks.Stop?.length, 2);
    assert.deepEqual(parsed.hooks.PreToolUse?.[0]?.hooks[0]?.headers, {
      Authorization: 'Bearer $LIVESTREAM_TOKEN',
    });
    const again = await output([
      'hooks',
      'install',
      '--project',
      project,
      '--url',
      url,
      '--token',
      's3cret',
    ]);
    assert.match(again.stdout, /already up to date/);

    const uninstall = await output(['hooks', 'uninstall', '--project', project]);
    assert.equal(uninstall.code, 0);
    assert.equal(await readFile(settings, 'utf8'), original);

    await writeFile(settings, '{ not json');
    const broken = await output(['hooks', 'install', '--project', project]);
    assert.equal(broken.code, 2);
    assert.equal(await readFile(settings, 'utf8'), '{ not json');
  });
});

describe('agent sessions in status --root, with cost per build phase', () => {
  test('status --root reads the agent folders as serve does and names the build phase each response came in', async () => {
    const root = await mkdtemp(join(tmpdir(), 'ls-agents-root-'));
    const shop = join(root, 'builds', 'shop');
    await mkdir(join(shop, '.context-foundry'), { recursive: true });
    await writeFile(
      join(shop, '.context-foundry', 'current-phase.json'),
      JSON.stringify({
        session_id: 'shop',
        current_phase: 'Builder',
        phase_number: '3/7',
        status: 'building',
        phases_completed: ['Scout', 'Architect'],
        started_at: new Date(Date.now() - 600_000).toISOString(),
      }),
    );
    const sid = 'beef0000-1111-4222-8333-444455556666';
    const project = join(root, 'claude', 'projects', '-builds-shop');
    await mkdir(project, { recursive: true });
    // The agent works in a subfolder of the build's project; its responses come after the build began.
    const at = Date.now() + 1000;
    const base = { sessionId: sid, at, cwd: join(shop, 'src') };
    await writeFile(
      join(project, `${sid}.jsonl`),
      lines([
        claudePrompt(base, 'build the cart'),
        claudeAssistant(
          { ...base, at: at + 5 },
          {
            messageId: 'm1',
            requestId: 'r1',
            usage: { input: 2000, output: 10_000, cacheRead: 100_000 },
          },
        ),
      ]),
    );
    const json = await output([
      'status',
      '--root',
      join(root, 'builds'),
      '--claude-dir',
      join(root, 'claude'),
      '--json',
    ]);
    assert.equal(json.code, 0);
    const body = JSON.parse(json.stdout) as {
      sessions: { id: string }[];
      agents: AgentSummary[];
      agentCostUsd: number;
    };
    assert.deepEqual(
      body.sessions.map((s) => s.id),
      ['shop'],
    );
    assert.equal(body.agents.length, 1);
    assert.equal(body.agentCostUsd, COST);
    assert.deepEqual(
      body.agents[0]?.phases.map((p) => [p.phase, p.responses, p.costUsd]),
      [['Builder', 1, COST]],
    );
    const table = await output([
      'status',
      '--root',
      join(root, 'builds'),
      '--claude-dir',
      join(root, 'claude'),
    ]);
    assert.match(table.stdout, /^shop\s+active\s+Builder/m);
    assert.match(table.stdout, /beef0000\s+claude\s+src\s+.*\$0\.19.*Builder \$0\.19/);
    const without = await output([
      'status',
      '--root',
      join(root, 'builds'),
      '--claude-dir',
      join(root, 'claude'),
      '--no-agents',
      '--json',
    ]);
    assert.deepEqual((JSON.parse(without.stdout) as { agents: unknown[] }).agents, []);
    await rm(root, { recursive: true, force: true });
  });

  test('/metrics reports cost and tokens by phase', async () => {
    const text = await (await fetch(`${server?.url}/metrics`)).text();
    assert.match(
      text,
      new RegExp(`livestream_agent_phase_cost_usd\\{phase="context 1"\\} ${COST}`),
    );
    assert.match(text, /livestream_agent_phase_tokens\{phase="context 1"\} 112000/);
  });
});
