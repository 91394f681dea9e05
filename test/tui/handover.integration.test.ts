import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { planText, tempDir, writePlan } from '../helpers/plan-fixtures.ts';
import { hasTmux, killSession, startDashboard, tmux, waitForScreen } from './helpers.ts';

const skip = hasTmux
  ? false
  : 'tmux is not installed: the terminal end-to-end tests need it (apt-get install tmux)';
const { dir: root, cleanup } = tempDir('livestream-handover-');
const session = `ls-plans-handover-${process.pid}`;
after(() => {
  killSession(session);
  cleanup();
});

// An interactive prompt generator in miniature: it asks on the terminal, and
// answers "fail" with output and exit code 3, anything else by approving the
// achievement it was given (a file the refreshed dashboard must show).
const SCRIPT = `#!/bin/sh
printf 'Prompt for %s? ' "$2"
read answer
echo "$2:$answer" >> "$3"
if [ "$answer" = fail ]; then echo 'generator: no template' >&2; exit 3; fi
mkdir -p "$1/execution/feedbacks"
printf '**Review Date**: 2026-01-02\\n' > "$1/execution/feedbacks/APPROVED_$(echo "$2" | tr -d .).md"
`;

test('n hands the terminal to an interactive command and comes back refreshed on the same screen, row and plan; failures show output and exit code', {
  skip,
}, async () => {
  const plansDir = join(root, 'plans');
  const answers = join(root, 'answers.txt');
  const script = join(root, 'generate.sh');
  writeFileSync(script, SCRIPT, { mode: 0o755 });
  writePlan(plansDir, 'ALPHA', [
    { path: 'PLAN_ALPHA.md', text: planText('Alpha', [['1.1', 'First']]) },
  ]);
  writePlan(plansDir, 'BETA', [
    {
      path: 'PLAN_BETA.md',
      text: planText('Beta', [
        ['1.1', 'Parse'],
        ['1.2', 'Render'],
        ['1.3', 'Ship'],
      ]),
    },
  ]);

  startDashboard(session, [
    plansDir,
    '--execute-next',
    `sh ${script} {planDir} {achievement} ${answers}`,
    '--create-subplan',
    `sh -c 'echo template missing for {achievement} >&2; exit 2'`,
  ]);
  await waitForScreen(session, (s) => /Last updated:/.test(s) && s.includes('BETA'), 'the list');
  // The list's order puts plans needing attention first: find BETA's row and walk to it.
  const listed = await waitForScreen(session, (s) => /\bBETA\b/.test(s), 'BETA in the list');
  const order = [...listed.screen.matchAll(/^\S*\s*\d+ (ALPHA|BETA)\b/gm)].map((m) => m[1]);
  assert.deepEqual([...order].sort(), ['ALPHA', 'BETA'], listed.screen);
  if (order[0] !== 'BETA') tmux('send-keys', '-t', session, 'j');
  tmux('send-keys', '-t', session, 'Enter');
  await waitForScreen(session, (s) => s.includes('Health:') && /^BETA/m.test(s), 'BETA opened');
  tmux('send-keys', '-t', session, 'j');
  await waitForScreen(session, (s) => /› 1\.2/.test(s), 'the cursor on 1.2');

  tmux('send-keys', '-t', session, 'n');
  const asked = await waitForScreen(session, (s) => s.includes('Prompt for 1.2?'), 'the prompt');
  assert.doesNotMatch(asked.screen, /Livestream · Plan/, 'the dashboard stepped aside');
  tmux('send-keys', '-t', session, 'yes please', 'Enter');
  const back = await waitForScreen(
    session,
    (s) => /1\.2\s+Render\s+✔ Approved/.test(s) && s.includes('exited 0'),
    'the dashboard back, refreshed',
  );
  assert.match(back.screen, /Livestream · Plan/, 'the same screen, not the plans list');
  assert.match(back.screen, /^BETA/m, 'the same plan open');
  assert.match(back.screen, /› 1\.2/, 'the same row selected');
  assert.equal(readFileSync(answers, 'utf8'), '1.2:yes please\n', 'the command read the tty');

  // One burst: the action runs for the row the key before it selected.
  tmux('send-keys', '-t', session, 'j', 'n');
  await waitForScreen(session, (s) => s.includes('Prompt for 1.3?'), 'the second prompt');
  tmux('send-keys', '-t', session, 'fail', 'Enter');
  const failed = await waitForScreen(
    session,
    (s) => s.includes('exited 3 ✖') && /› 1\.3/.test(s),
    'the failure in the dashboard',
  );
  assert.match(failed.screen, /Execute next.*exited 3 ✖/i);
  assert.match(failed.screen, /1\.3\s+Ship\s+○ Not started/, 'a failed command approves nothing');

  tmux('send-keys', '-t', session, 'x', 's');
  const captured = await waitForScreen(
    session,
    (s) => s.includes('exited 2 ✖') && s.includes('template missing for 1.3'),
    'a captured failing action with its output',
  );
  assert.match(captured.screen, /Livestream · Plan/);
  tmux('send-keys', '-t', session, 'q');
  await waitForScreen(session, (s) => s.includes('EXIT=0'), 'a clean quit');
});
