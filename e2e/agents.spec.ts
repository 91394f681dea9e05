/// <reference lib="dom" />
import { join } from 'node:path';
import {
  claudeAssistant,
  claudePrompt,
  claudeToolResult,
  codexSessionMeta,
  codexTokenCount,
  codexTurnContext,
  lines,
} from '../test/helpers/agent-transcripts.ts';
import { claudeApiRequest, otlpLogsJson } from '../test/helpers/otlp-records.ts';
import { expect, guardPage, openLive, test } from './fixtures.ts';
import { phaseDoc } from './server.ts';

const SID = '9d2b7c3e-1f4a-4b8e-a6c5-3e2d1f0a9b88';
const CODEX = '019b0000-aaaa-7bbb-8ccc-ddddeeeeffff';
const MAIN = `claude/projects/-home-dev-weather-app/${SID}.jsonl`;
const base = (dt: number) => ({
  sessionId: SID,
  at: Date.now() - 30_000 + dt,
  cwd: '/home/dev/weather-app',
});

test('agent sessions sit in the overview with builds, filterable, and their page follows tool calls live', async ({
  page,
  server,
}) => {
  const problems: string[] = [];
  guardPage(page, problems);
  await server.appendAgentFile(
    MAIN,
    lines([
      claudePrompt(base(0), 'make the forecast cache <b>faster</b>'),
      claudeAssistant(base(100), {
        messageId: 'msg_1',
        requestId: 'req_1',
        usage: { input: 100, output: 1000, cache5m: 10_000 },
        toolUse: {
          id: 'toolu_task',
          name: 'Task',
          input: {
            description: 'Profile the cache',
            prompt: 'Profile the cache',
            subagent_type: 'Explore',
          },
        },
      }),
    ]),
  );
  await server.appendAgentFile(
    `claude/projects/-home-dev-weather-app/${SID}/subagents/agent-b12.jsonl`,
    lines([
      claudePrompt({ ...base(200), agentId: 'b12' }, 'Profile the cache'),
      claudeAssistant(
        { ...base(300), agentId: 'b12' },
        {
          messageId: 'msg_s',
          requestId: 'req_s',
          model: 'claude-haiku-4-5',
          usage: { input: 5000, output: 500 },
        },
      ),
    ]),
  );
  await server.appendAgentFile(
    `codex/sessions/2026/01/10/rollout-2026-01-10T09-00-00-${CODEX}.jsonl`,
    lines([
      codexSessionMeta(Date.now() - 20_000, CODEX, '/home/dev/rusty'),
      codexTurnContext(Date.now() - 19_000, 'gpt-5-codex', '/home/dev/rusty'),
      codexTokenCount(
        Date.now() - 18_000,
        { input: 1000, cached: 0, output: 100 },
        { input: 1000, cached: 0, output: 100 },
      ),
    ]),
  );

  await openLive(page, server.url);
  const claude = page.locator(`li[data-agent="${SID}"]`);
  const codex = page.locator(`li[data-agent="${CODEX}"]`);
  await expect(claude).toBeVisible();
  await expect(codex).toBeVisible();
  // The prompt is text, never HTML.
  await expect(claude.locator('.session-name')).toHaveText('make the forecast cache <b>faster</b>');
  // Sonnet 4.5 main agent + Haiku 4.5 subagent: (100·3 + 1000·15 + 10000·3.75 + 5000·1 + 500·5) / 1e6.
  await expect(claude.locator('.agent-cost')).toHaveText('$0.06');

  await page.getByLabel('Filter by kind').selectOption('codex');
  await expect(codex).toBeVisible();
  await expect(claude).toBeHidden();
  await page.getByLabel('Filter by kind').selectOption('all');
  await page.getByLabel('Filter by project').selectOption('weather-app');
  await expect(claude).toBeVisible();
  await expect(codex).toBeHidden();

  await claude.locator('a.session-name').click();
  await expect(page.locator(`.agent-page[data-agent="${SID}"]`)).toBeVisible();
  await expect(page.locator('[data-agent-node="b12"]')).toContainText('Explore');
  await expect(page.locator('[data-agent-node="b12"] .node-cost')).toContainText('$0.0075');
  await expect(page.locator('tr[data-tool="toolu_task"]')).toHaveAttribute(
    'data-outcome',
    'running',
  );

  // Live: the Task finishes, then a question to the user.
  await server.appendAgentFile(
    MAIN,
    lines([
      claudeToolResult(base(5000), 'toolu_task', { agentId: 'b12' }),
      claudeAssistant(base(6000), {
        messageId: 'msg_2',
        requestId: 'req_2',
        usage: { input: 10, output: 20, cacheRead: 10_000 },
        toolUse: {
          id: 'toolu_ask',
          name: 'AskUserQuestion',
          input: { description: 'Keep the old cache format?' },
        },
      }),
    ]),
  );
  await expect(page.locator('tr[data-tool="toolu_task"]')).toHaveAttribute('data-outcome', 'ok', {
    timeout: 2000,
  });
  await expect(page.locator('.waiting-card')).toContainText('Keep the old cache format?', {
    timeout: 2000,
  });
  await expect(page.locator('tr[data-tool="toolu_ask"]')).toBeVisible();
  await expect(page.locator('tr[data-phase="context 1"]')).toContainText('$0.06');

  // OpenTelemetry's cost for the second response replaces the table price, live, counted once.
  const otlp = await fetch(`${server.url}/v1/logs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(
      otlpLogsJson([
        claudeApiRequest({
          sessionId: SID,
          at: Date.now(),
          requestId: 'req_2',
          input: 10,
          output: 20,
          cacheRead: 10_000,
          costUsd: 1.5,
        }),
      ]),
    ),
  });
  expect(otlp.status).toBe(200);
  await expect(page.locator('.agent-page .agent-cost')).toContainText('$1.56', { timeout: 2000 });
  await expect(page.locator('tr[data-phase="context 1"]')).toContainText('$1.56');
  expect(problems).toEqual([]);
});

test("an agent working in a build's folder shows its cost by the build's phase, live", async ({
  page,
  server,
}) => {
  const problems: string[] = [];
  guardPage(page, problems);
  const id = 'be11d000-1f4a-4b8e-a6c5-3e2d1f0a9b88';
  await server.writePhase('shop', phaseDoc('shop', { current_phase: 'Builder' }));
  await openLive(page, server.url);
  await expect(page.locator('li[data-session="shop"]')).toBeVisible();
  const cwd = join(server.root, 'shop', 'src');
  const at = Date.now() + 500;
  await server.appendAgentFile(
    `claude/projects/-shop/${id}.jsonl`,
    lines([
      claudePrompt({ sessionId: id, at, cwd }, 'build the cart'),
      claudeAssistant(
        { sessionId: id, at: at + 10, cwd },
        { messageId: 'msg_b', requestId: 'req_b', usage: { input: 1000, output: 2000 } },
      ),
    ]),
  );
  await page.goto(`${server.url}/#/agent/${id}`);
  // Sonnet 4.5: (1000 × 3 + 2000 × 15) / 1e6.
  await expect(page.locator('tr[data-phase="Builder"]')).toContainText('$0.03');
  expect(problems).toEqual([]);
});
