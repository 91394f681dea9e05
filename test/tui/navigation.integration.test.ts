import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { planText, tempDir, writePlan } from '../helpers/plan-fixtures.ts';
import { hasTmux, killSession, startDashboard, tmux, waitForScreen } from './helpers.ts';

const skip = hasTmux
  ? false
  : 'tmux is not installed: the terminal end-to-end tests need it (apt-get install tmux)';
const { dir: root, cleanup } = tempDir('livestream-tui-nav-');
const sessions: string[] = [];
after(() => {
  for (const s of sessions) killSession(s);
  cleanup();
});
const T = 1_700_000_000;

/** Opens the selected plan and returns its id (the detail view's first line), then goes back. */
async function openSelected(session: string): Promise<string> {
  tmux('send-keys', '-t', session, 'Enter');
  const { screen } = await waitForScreen(session, (s) => s.includes('Health:'), 'a plan opened');
  const id = screen.split('\n')[1]?.split(' ')[0] ?? '';
  tmux('send-keys', '-t', session, 'b');
  await waitForScreen(session, (s) => /#\s+Plan\s+Progress/.test(s), 'the list again');
  return id;
}

test('a 120-plan list: End, Home, PgDn, PgUp move by the screenful; / searches and Esc clears', {
  skip,
}, async () => {
  const plansDir = join(root, 'many');
  for (let i = 1; i <= 120; i++) {
    const id = `P-${String(i).padStart(3, '0')}`;
    writePlan(plansDir, id, [
      { path: `PLAN_${id}.md`, text: planText(`Plan ${i}`, [['1.1', 'A']]), mtime: T },
    ]);
  }
  const session = `ls-plans-nav-${process.pid}`;
  sessions.push(session);
  startDashboard(session, [plansDir]);
  await waitForScreen(session, (s) => s.includes('Last updated:') && s.includes('P-001'), 'list');

  tmux('send-keys', '-t', session, 'End');
  await waitForScreen(session, (s) => /^\s*120 P-120/m.test(s), 'the last row in view');
  assert.equal(await openSelected(session), 'P-120');
  tmux('send-keys', '-t', session, 'Home');
  await waitForScreen(session, (s) => /^\s*1 P-001/m.test(s), 'the first row in view');
  assert.equal(await openSelected(session), 'P-001');
  // 40 rows: 37 for the table, a page moves one row less than the 36 rows shown.
  tmux('send-keys', '-t', session, 'NPage');
  await waitForScreen(session, (s) => /^\s*37 P-037/m.test(s), 'a page down');
  assert.equal(await openSelected(session), 'P-037');
  tmux('send-keys', '-t', session, 'NPage', 'NPage', 'NPage', 'NPage');
  await waitForScreen(session, (s) => /^\s*120 P-120/m.test(s), 'paged to the end');
  assert.equal(await openSelected(session), 'P-120', 'paging stops at the last plan');
  tmux('send-keys', '-t', session, 'PPage');
  await waitForScreen(session, (s) => /^\s*84 P-084/m.test(s), 'a page up');
  assert.equal(await openSelected(session), 'P-084');

  tmux('send-keys', '-t', session, '/', '1', '1');
  const typing = await waitForScreen(session, (s) => s.includes('matching "11▏"'), 'the query');
  assert.match(typing.screen, /11 plans matching/, 'P-011 and P-110 to P-119');
  tmux('send-keys', '-t', session, 'BSpace', '0', 'Enter');
  const found = await waitForScreen(
    session,
    (s) => s.includes('matching "10"') && !s.includes('▏'),
    'the search applied',
  );
  const rows = [...found.screen.matchAll(/^\s*\d+ (P-\d{3})/gm)].map((m) => m[1]);
  assert.deepEqual(rows, [
    'P-010',
    'P-100',
    'P-101',
    'P-102',
    'P-103',
    'P-104',
    'P-105',
    'P-106',
    'P-107',
    'P-108',
    'P-109',
    'P-110',
  ]);
  tmux('send-keys', '-t', session, 'j', 'j');
  assert.equal(await openSelected(session), 'P-101', 'keys move within the matches');
  tmux('send-keys', '-t', session, 'Escape');
  await waitForScreen(
    session,
    (s) => s.includes('120 plans') && !s.includes('matching'),
    'cleared',
  );
  tmux('send-keys', '-t', session, 'q');
  await waitForScreen(session, (s) => s.includes('EXIT=0'), 'quit');
});

test('at 80 columns plans with a shared prefix stay apart and the next action is not cut', {
  skip,
}, async () => {
  const plansDir = join(root, 'narrow');
  const prefix = 'GRAPHRAG-OBSERVABILITY-VALIDATION-AND-EXCELLENCE';
  for (const [suffix, ids] of [
    ['PHASE-ONE', ['1.10', '1.11']],
    ['PHASE-TWO', ['2.10', '2.11']],
  ] as const) {
    writePlan(plansDir, `${prefix}-${suffix}`, [
      {
        path: `PLAN_${prefix}-${suffix}.md`,
        text: planText(
          suffix,
          ids.map((id): [string, string] => [id, `Step ${id}`]),
        ),
        mtime: T,
      },
      {
        path: 'parallel.json',
        text: JSON.stringify({
          achievements: ids.map((id) => ({ achievement_id: id, dependencies: [] })),
        }),
        mtime: T,
      },
    ]);
  }
  const session = `ls-plans-80-${process.pid}`;
  sessions.push(session);
  startDashboard(session, [plansDir], { columns: 80, rows: 24 });
  const { screen } = await waitForScreen(
    session,
    (s) => s.includes('Last updated:') && (s.match(/PHASE-/g) ?? []).length >= 2,
    'the narrow list',
  );
  const rows = screen.split('\n').filter((l) => /^\s*\d+ GRAPHRAG/.test(l));
  assert.equal(rows.length, 2, screen);
  for (const line of rows) assert.ok([...line].length <= 80, `fits 80 columns: ${line}`);
  assert.match(
    rows[0] ?? '',
    /…\S*-PHASE-ONE\s.*1\.10, 1\.11\s/,
    'the name keeps its end; next whole',
  );
  assert.match(rows[1] ?? '', /…\S*-PHASE-TWO\s.*2\.10, 2\.11\s/);
  assert.match(rows[0] ?? '', /^\s*1 GRAPHRAG-OBS/, 'and its start');
  tmux('send-keys', '-t', session, 'q');
  await waitForScreen(session, (s) => s.includes('EXIT=0'), 'quit');
});
