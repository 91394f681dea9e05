import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { Alert } from '../../src/shared/attention.ts';
import { planText, tempDir, writePlan } from '../helpers/plan-fixtures.ts';
import { type ServerProcess, startServer } from '../helpers/server.ts';
import {
  cliEntry,
  killSession,
  nodeBin,
  REPO,
  skipWithoutTmux,
  tmux,
  waitForScreen,
  writePhase,
} from './helpers.ts';

const skip = skipWithoutTmux;
const { dir, cleanup } = tempDir('livestream-tui-attention-');
const session = `ls-attention-${process.pid}`;
let server: ServerProcess | null = null;
after(async () => {
  killSession(session);
  await server?.stop();
  cleanup();
});

async function attention(url: string): Promise<{ queue: Alert[]; alerts: Alert[] }> {
  const res = await fetch(`${url}/api/attention`);
  return (await res.json()) as { queue: Alert[]; alerts: Alert[] };
}

/** Polls the server until `pred` holds (the acknowledgement is a request the TUI makes). */
async function until<T>(read: () => Promise<T>, pred: (v: T) => boolean, what: string) {
  const started = Date.now();
  let value = await read();
  while (!pred(value)) {
    if (Date.now() - started > 10_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    value = await read();
  }
  return value;
}

test('the attention queue in the TUI: banner, reasons and since, acknowledge, snooze, desktop notifications', {
  skip,
}, async () => {
  const root = join(dir, 'projects');
  mkdirSync(root, { recursive: true });
  writePhase(root, 'weather-app', {
    phase_number: '5/7',
    current_phase: 'Test',
    status: 'failed',
    progress_detail: 'tests failed 3 times',
  });
  server = await startServer(['--root', root, '--db', join(dir, 'history.db')]);
  await until(
    () => attention(server?.url as string),
    (a) => a.queue.length === 1,
    'the failure alert on the server',
  );

  // A stand-in notify-send on PATH: it records its arguments, as libnotify would show them.
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  const calls = join(dir, 'notify-calls.txt');
  writeFileSync(
    join(bin, 'notify-send'),
    `#!/bin/sh\nprintf '%s|' "$@" >> '${calls}'\necho >> '${calls}'\n`,
  );
  chmodSync(join(bin, 'notify-send'), 0o755);
  const plansDir = join(dir, 'plans');
  writePlan(plansDir, 'DEMO', [{ path: 'PLAN_DEMO.md', text: planText('Demo', [['1.1', 'A']]) }]);
  tmux(
    'new-session',
    '-d',
    '-s',
    session,
    '-x',
    '120',
    '-y',
    '40',
    '-c',
    REPO,
    `PATH='${bin}':"$PATH" ${nodeBin()} ${cliEntry()} plans '${plansDir}' --connect ${server.url} --desktop-notify; echo EXIT=$?; sleep 120`,
  );
  const first = await waitForScreen(
    session,
    (s) => s.includes('DEMO') && s.includes('needs you'),
    'the plans list with the attention banner',
  );
  assert.match(
    first.screen,
    /⚠ 1 needs you: weather-app — Failed since \d\d:\d\d:\d\d \(\d+s\) · ! to see/,
  );

  // A new failure while the dashboard runs is announced on the desktop; the one open at start is not.
  writePhase(root, 'api-server', {
    phase_number: '5/7',
    current_phase: 'Builder',
    status: 'error',
  });
  await waitForScreen(session, (s) => s.includes('2 need you'), 'the second alert');
  await until(
    async () => (existsSync(calls) ? readFileSync(calls, 'utf8') : ''),
    (text) => text.includes('api-server'),
    'the desktop notification',
  );
  const notified = readFileSync(calls, 'utf8').trim().split('\n');
  assert.equal(notified.length, 1, `one notification: ${notified.join(' / ')}`);
  assert.match(
    notified[0] as string,
    /--app-name=Livestream\|--urgency=critical\|--\|🔴 api-server — Failed\|/,
  );

  tmux('send-keys', '-t', session, '!');
  const queue = await waitForScreen(
    session,
    (s) => s.includes('Needs you (2)'),
    'the attention screen',
  );
  // Most severe first, then the oldest condition: weather-app failed first.
  const rows = queue.screen.split('\n');
  const weather = rows.findIndex((l) => /● weather-app\s+Failed\s+since \d\d:\d\d:\d\d/.test(l));
  const api = rows.findIndex((l) => /● api-server\s+Failed\s+since/.test(l));
  assert.ok(weather > 0 && api > weather, queue.screen);
  assert.match(rows[weather + 1] as string, /^\s+\S/, 'the reason under each alert');

  tmux('send-keys', '-t', session, 'a');
  const acked = await until(
    () => attention(server?.url as string),
    (a) => a.queue.length === 1,
    'the acknowledgement on the server',
  );
  assert.equal(acked.queue[0]?.sessionId, 'api-server');
  const weatherAlert = acked.alerts.find((a) => a.sessionId === 'weather-app');
  assert.ok(weatherAlert?.acknowledgedAt, 'acknowledged on the server');
  await waitForScreen(session, (s) => s.includes('Needs you (1)'), 'the queue without it');

  tmux('send-keys', '-t', session, 'z');
  const snoozed = await until(
    () => attention(server?.url as string),
    (a) => a.queue.length === 0,
    'the snooze on the server',
  );
  const apiAlert = snoozed.alerts.find((a) => a.sessionId === 'api-server');
  const minutes = ((apiAlert?.snoozedUntil ?? 0) - Date.now()) / 60_000;
  assert.ok(minutes > 28 && minutes <= 30, `snoozed for 30 minutes (${minutes})`);
  await waitForScreen(session, (s) => s.includes('Nothing needs you right now.'), 'an empty queue');

  tmux('send-keys', '-t', session, 'b');
  const back = await waitForScreen(session, (s) => s.includes('DEMO'), 'the plans list again');
  assert.doesNotMatch(back.screen, /needs? you/, 'no banner once the queue is empty');
  tmux('send-keys', '-t', session, 'q');
  await waitForScreen(session, (s) => s.includes('EXIT=0'), 'the dashboard to quit');
});

test('--desktop-notify without notify-send says so and the dashboard runs on', {
  skip,
}, async () => {
  const root = join(dir, 'quiet');
  mkdirSync(root, { recursive: true });
  const quiet = await startServer(['--root', root, '--db', join(dir, 'quiet.db')]);
  const name = `${session}-quiet`;
  const plansDir = join(dir, 'quiet-plans');
  writePlan(plansDir, 'QUIET', [
    { path: 'PLAN_QUIET.md', text: planText('Quiet', [['1.1', 'A']]) },
  ]);
  try {
    tmux(
      'new-session',
      '-d',
      '-s',
      name,
      '-x',
      '120',
      '-y',
      '30',
      '-c',
      REPO,
      `PATH='${join(dir, 'empty-bin')}' ${nodeBin()} ${cliEntry()} plans '${plansDir}' --connect ${quiet.url} --desktop-notify; echo EXIT=$?; sleep 60`,
    );
    const screen = await waitForScreen(
      name,
      (s) => s.includes('QUIET') && s.includes('Desktop notifications are off'),
      'the notice',
    );
    assert.match(screen.screen, /Desktop notifications are off: notify-send is not installed\./);
    tmux('send-keys', '-t', name, 'q');
    await waitForScreen(name, (s) => s.includes('EXIT=0'), 'the dashboard to quit');
  } finally {
    killSession(name);
    await quiet.stop();
  }
});
