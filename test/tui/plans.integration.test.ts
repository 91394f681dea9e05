import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { LOCK_NAME } from '../../src/sources/plans/lock.ts';
import { planText, tempDir, writeFixtureFile, writePlan } from '../helpers/plan-fixtures.ts';
import { hasTmux, killSession, startDashboard, tmux, waitForScreen } from './helpers.ts';

const skip = hasTmux
  ? false
  : 'tmux is not installed: the terminal end-to-end tests need it (apt-get install tmux)';
const { dir: plansDir, cleanup } = tempDir('livestream-tui-');
const first = `ls-plans-a-${process.pid}`;
const second = `ls-plans-b-${process.pid}`;
after(() => {
  killSession(first);
  killSession(second);
  cleanup();
});

test('the plan dashboard under tmux: open, refresh, live change, second instance, clean quit', {
  skip,
}, async () => {
  const dir = writePlan(plansDir, 'DEMO-PLAN', [
    {
      path: 'PLAN_DEMO-PLAN.md',
      text: planText('Demo', [
        ['1.1', '**Setup** 🚀'],
        ['1.2', 'Parse'],
      ]),
    },
    { path: 'subplans/SUBPLAN_DEMO-PLAN_11.md' },
  ]);
  writePlan(plansDir, 'OTHER', [
    { path: 'PLAN_OTHER.md', text: planText('Other', [['1.1', 'A']]) },
  ]);

  startDashboard(first, [plansDir]);
  const list = await waitForScreen(
    first,
    (s) => /Last updated: \d\d:\d\d:\d\d/.test(s) && s.includes('OTHER'),
    'the plans list',
  );
  assert.match(list.screen, /#\s+Plan\s+Progress\s+Chg\s+Last\s+Next\s+Status/);
  assert.match(list.screen, /1 DEMO-PLAN .* 0\/2 .* 1\.1 .*▶ Ready/);

  tmux('send-keys', '-t', first, 'Enter');
  const detail = await waitForScreen(first, (s) => s.includes('Health:'), 'the plan detail');
  assert.match(detail.screen, /1\.1\s+Setup 🚀\s+▶ Ready to execute/);
  assert.doesNotMatch(detail.screen, /\*\*Setup/, 'titles render their markdown');
  assert.match(detail.screen, /Subplans: 1 created, 1 waiting/);
  // Nothing approved (0 of 40) + no FIX, no idle execution, clean folder (25 + 20 + 15).
  assert.match(detail.screen, /Health: ● Good 60\/100 · 2 unfinished, no estimates/);

  tmux('send-keys', '-t', first, 'r');
  await waitForScreen(first, (s) => s.includes('Refreshing…'), 'the refresh spinner');
  const refreshed = await waitForScreen(
    first,
    (s) => s.includes('Last updated:') && s.includes('Health:'),
    'the refreshed screen',
  );
  assert.doesNotMatch(refreshed.screen, /invalid/i);

  writeFixtureFile(dir, { path: 'execution/feedbacks/APPROVED_11.md' });
  const live = await waitForScreen(
    first,
    (s) => /1\.1\s+Setup 🚀\s+✔ Approved/.test(s),
    'the APPROVED file to show',
    1000,
  );
  assert.match(live.screen, /Progress: \S+ 1\/2/);

  const lock = JSON.parse(readFileSync(join(plansDir, LOCK_NAME), 'utf8')) as { pid: number };
  startDashboard(second, [plansDir]);
  const warning = await waitForScreen(
    second,
    (s) => s.includes('Continue anyway? [y/N]'),
    'the second-instance prompt',
  );
  assert.match(
    warning.screen,
    new RegExp(`Another livestream plans instance is running on this folder \\(pid ${lock.pid}`),
  );
  tmux('send-keys', '-t', second, 'y', 'Enter');
  await waitForScreen(
    second,
    (s) => s.includes(`Second instance: pid ${lock.pid} holds`) && s.includes('DEMO-PLAN'),
    'the second dashboard',
  );
  tmux('send-keys', '-t', second, 'q');
  await waitForScreen(second, (s) => s.includes('EXIT=0'), 'the second instance to quit');
  assert.equal(
    JSON.parse(readFileSync(join(plansDir, LOCK_NAME), 'utf8')).pid,
    lock.pid,
    'the first lock stays',
  );

  tmux('send-keys', '-t', first, 'q');
  await waitForScreen(first, (s) => s.includes('EXIT=0'), 'the first instance to quit');
  assert.equal(existsSync(join(plansDir, LOCK_NAME)), false, 'no lock left');
});

test('a second instance answered "no" (the default) exits and leaves the lock', {
  skip,
}, async () => {
  const { dir, cleanup: done } = tempDir('livestream-tui-no-');
  after(done);
  writePlan(dir, 'P', [{ path: 'PLAN_P.md', text: planText('P', [['1.1', 'A']]) }]);
  const a = `${first}-no`;
  const b = `${second}-no`;
  after(() => {
    killSession(a);
    killSession(b);
  });
  startDashboard(a, [dir]);
  await waitForScreen(a, (s) => s.includes('Last updated:'), 'the first dashboard');
  startDashboard(b, [dir]);
  await waitForScreen(b, (s) => s.includes('[y/N]'), 'the prompt');
  tmux('send-keys', '-t', b, 'Enter');
  await waitForScreen(b, (s) => s.includes('EXIT=3'), 'the refusal');
  assert.ok(existsSync(join(dir, LOCK_NAME)));
  tmux('send-keys', '-t', a, 'Escape');
  tmux('send-keys', '-t', a, '?');
  await waitForScreen(a, (s) => s.includes('Keys') && s.includes('executeNext'), 'the help screen');
  tmux('send-keys', '-t', a, 'q');
  await waitForScreen(a, (s) => s.includes('EXIT=0'), 'quit');
  assert.equal(existsSync(join(dir, LOCK_NAME)), false);
});
