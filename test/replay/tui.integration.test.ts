import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { planText, tempDir, writePlan } from '../helpers/plan-fixtures.ts';
import { type ServerProcess, startServer } from '../helpers/server.ts';
import { hasTmux, killSession, startDashboard, tmux, waitForScreen } from '../tui/helpers.ts';
import { currentTemplate, secondRun } from './corpus.ts';

const skip = hasTmux ? false : 'tmux is not installed: the terminal replay needs it';
const { dir, cleanup } = tempDir('livestream-replay-tui-');
const session = `builds-replay-${process.pid}`;
let server: ServerProcess | null = null;
after(async () => {
  killSession(session);
  await server?.stop();
  cleanup();
});

function literal(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

test('the Builds screen follows a replayed real-template build: each phase once, run 2 above the finished run', {
  skip,
}, async () => {
  const root = join(dir, 'projects');
  const project = 'tide-tracker';
  const file = join(root, project, '.context-foundry', 'current-phase.json');
  await mkdir(join(root, project, '.context-foundry'), { recursive: true });
  const steps = currentTemplate(project).filter((s) => !s.restart);
  const [first] = steps;
  await writeFile(file, JSON.stringify(first?.doc));
  server = await startServer(['--root', root, '--db', join(dir, 'history.db')]);
  const plansDir = join(dir, 'plans');
  writePlan(plansDir, 'DEMO', [{ path: 'PLAN_DEMO.md', text: planText('Demo', [['1.1', 'A']]) }]);
  startDashboard(session, [plansDir, '--connect', server.url]);
  await waitForScreen(session, (s) => s.includes('DEMO'), 'the plans list');
  tmux('send-keys', '-t', session, 'Tab');
  await waitForScreen(
    session,
    (s) => s.includes('connected') && s.includes(project),
    'the Builds screen',
  );

  let doc: Record<string, unknown> = {};
  for (const step of steps) {
    if (!step.doc) continue;
    doc = step.doc;
    await writeFile(file, JSON.stringify(doc));
    const phase = String(doc.current_phase);
    const row = new RegExp(
      `${project}\\s+${literal(phase)}\\s+${literal(String(doc.phase_number))}\\s+${literal(String(doc.status))}`,
    );
    await waitForScreen(session, (s) => row.test(s), `${phase} ${doc.status} on screen`);
  }
  for (const step of secondRun(project)) await writeFile(file, JSON.stringify(step.doc));
  const both = await waitForScreen(
    session,
    (s) => s.includes(`${project}-run2`) && /GitHub Integration/.test(s),
    'run 2 and the finished run',
  );
  const lines = both.screen.split('\n');
  const run2 = lines.findIndex((l) => l.includes(`${project}-run2`));
  const run1 = lines.findIndex((l) => new RegExp(`^\\s*${project}\\s+GitHub Integration`).test(l));
  assert.ok(
    run2 >= 0 && run1 > run2,
    `the active run 2 is listed above the completed run 1:\n${both.screen}`,
  );

  tmux('send-keys', '-t', session, 'q');
  await waitForScreen(session, (s) => s.includes('EXIT=0'), 'the dashboard to quit');
});
