import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { claudeAssistant, claudePrompt, lines } from '../helpers/agent-transcripts.ts';
import { planText, tempDir, writeFixtureFile, writePlan } from '../helpers/plan-fixtures.ts';
import { type ServerProcess, startServer } from '../helpers/server.ts';
import {
  killSession,
  skipWithoutTmux,
  startDashboard,
  tmux,
  waitForScreen,
  writePhase,
} from './helpers.ts';

const skip = skipWithoutTmux;
const { dir, cleanup } = tempDir('livestream-tui-builds-');
const session = `ls-builds-${process.pid}`;
let server: ServerProcess | null = null;
after(async () => {
  killSession(session);
  await server?.stop();
  cleanup();
});

test('plans --connect: the Builds screen shows a running server’s sessions, live', {
  skip,
}, async () => {
  const root = join(dir, 'projects');
  mkdirSync(root, { recursive: true });
  writePhase(root, 'weather-app', {
    phase_number: '3/7',
    current_phase: 'Builder',
    status: 'building',
    progress_detail: 'writing the API',
  });
  const claude = join(dir, 'claude');
  const project = join(claude, 'projects', '-home-dev-weather-app');
  mkdirSync(project, { recursive: true });
  const at = Date.now() - 5000;
  const sessionId = 'c0ffee00-1111-4222-8333-444455556666';
  writeFileSync(
    join(project, `${sessionId}.jsonl`),
    lines([
      claudePrompt({ sessionId, at }, 'add a cache'),
      claudeAssistant(
        { sessionId, at: at + 10 },
        { messageId: 'm1', requestId: 'r1', usage: { input: 1000, output: 20_000 }, text: 'ok' },
      ),
    ]),
  );
  server = await startServer([
    '--root',
    root,
    '--db',
    join(dir, 'history.db'),
    '--claude-dir',
    claude,
  ]);
  const plansDir = join(dir, 'plans');
  writePlan(plansDir, 'DEMO', [{ path: 'PLAN_DEMO.md', text: planText('Demo', [['1.1', 'A']]) }]);

  startDashboard(session, [plansDir, '--connect', server.url]);
  await waitForScreen(session, (s) => s.includes('DEMO'), 'the plans list');
  tmux('send-keys', '-t', session, 'Tab');
  const builds = await waitForScreen(
    session,
    // The sessions and agents topics arrive as separate snapshots: wait for both rows.
    (s) => s.includes('connected') && s.includes('weather-app') && s.includes('c0ffee00'),
    'the Builds screen with the session and the agent',
  );
  assert.match(builds.screen, new RegExp(`Builds from ${server.url} connected`));
  assert.match(builds.screen, /Session\s+Phase\s+Step\s+Status\s+Detail/);
  assert.match(builds.screen, /weather-app\s+Builder\s+3\/7\s+building\s+writing the API/);
  // Sonnet 4.5: 1000 × $3 + 20,000 × $15 per million.
  assert.match(builds.screen, /c0ffee00\s+claude\s+weather-app\s+working\s+21k\s+\$0\.30/);

  writePhase(root, 'weather-app', {
    phase_number: '3/7',
    current_phase: 'Test',
    status: 'testing',
  });
  await waitForScreen(
    session,
    (s) => /weather-app\s+Test\s+3\/7\s+testing/.test(s),
    'the phase change on screen',
  );

  tmux('send-keys', '-t', session, 'q');
  await waitForScreen(session, (s) => s.includes('EXIT=0'), 'the dashboard to quit');
});

test('plans --connect URL without a folder: the server’s plans, read by the server, live', {
  skip,
}, async () => {
  const root = join(dir, 'served');
  const plansDir = join(root, 'shop', 'work-space', 'plans');
  const plan = writePlan(plansDir, 'CHECKOUT-FLOW', [
    {
      path: 'PLAN_CHECKOUT-FLOW.md',
      text: planText('Checkout flow', [
        ['1.1', 'Cart'],
        ['1.2', 'Payment'],
      ]),
    },
  ]);
  const served = await startServer(['--root', root, '--db', join(dir, 'served.db')]);
  const name = `${session}-served`;
  try {
    startDashboard(name, ['--connect', served.url]);
    const first = await waitForScreen(
      name,
      (s) => s.includes('CHECKOUT-FLOW') && s.includes(`from ${served.url}`),
      'the server’s plan',
    );
    assert.match(first.screen, /CHECKOUT-FLOW.*0\/2/);
    writeFixtureFile(plan, { path: 'subplans/SUBPLAN_CHECKOUT-FLOW_11.md' });
    writeFixtureFile(plan, { path: 'execution/feedbacks/APPROVED_11.md' });
    await waitForScreen(
      name,
      (s) => /CHECKOUT-FLOW.*1\/2/.test(s),
      'the approval, from the server',
    );
    tmux('send-keys', '-t', name, 'q');
    await waitForScreen(name, (s) => s.includes('EXIT=0'), 'the dashboard to quit');
  } finally {
    killSession(name);
    await served.stop();
  }
});
