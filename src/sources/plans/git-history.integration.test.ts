import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import {
  planText,
  tempDir,
  writeFixtureFile,
  writePlan,
} from '../../../test/helpers/plan-fixtures.ts';
import { derivePlan } from '../../core/plans/derive.ts';
import { commitTimes, parseLog } from './git-history.ts';
import { readPlanFolder } from './read.ts';

const { dir: root, cleanup } = tempDir('livestream-git-history-');
after(cleanup);

function git(cwd: string, args: string[], date?: string): void {
  execFileSync('git', args, {
    cwd,
    stdio: 'ignore',
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 'T',
      GIT_AUTHOR_EMAIL: 't@example.invalid',
      GIT_COMMITTER_NAME: 'T',
      GIT_COMMITTER_EMAIL: 't@example.invalid',
      GIT_CONFIG_NOSYSTEM: '1',
      HOME: root,
      ...(date ? { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date } : {}),
    },
  });
}

/**
 * A repository whose plan DEMO got `first` committed on 2026-01-01 and
 * `second` on 2026-01-05, with mtimes saying the opposite (as a checkout
 * that rewrote them in another order would). Neither file declares a date.
 */
function repoWith(name: string, first: string, second: string): string {
  const repo = join(root, name);
  const dir = writePlan(join(repo, 'work-space', 'plans'), 'DEMO', [
    { path: 'PLAN_DEMO.md', text: planText('Demo', [['1.1', 'Parse']]) },
    { path: 'subplans/SUBPLAN_DEMO_11.md' },
    { path: 'execution/EXECUTION_TASK_DEMO_11_01.md' },
    { path: `execution/feedbacks/${first}` },
  ]);
  git(repo, ['init', '-q']);
  git(repo, ['add', '.']);
  git(repo, ['commit', '-qm', 'first review'], '2026-01-01T10:00:00Z');
  writeFixtureFile(dir, { path: `execution/feedbacks/${second}` });
  git(repo, ['add', '.']);
  git(repo, ['commit', '-qm', 'second review'], '2026-01-05T10:00:00Z');
  utimesSync(join(dir, 'execution', 'feedbacks', first), 9_000, 9_000);
  utimesSync(join(dir, 'execution', 'feedbacks', second), 1_000, 1_000);
  return dir;
}

async function statusOf(dir: string) {
  const input = await readPlanFolder(dir);
  assert.ok(input);
  return derivePlan(input).achievements[0];
}

test('commit history orders a FIX before a later APPROVED whatever the mtimes say', async () => {
  const dir = repoWith('fix-then-approved', 'FIX_11.md', 'APPROVED_11.md');
  const a = await statusOf(dir);
  assert.equal(a?.status, 'approved');
  assert.equal(a?.fixOpen, false);

  // The same folder copied out of the repository has only its mtimes: the FIX looks newer.
  const copy = join(root, 'copy-1', 'DEMO');
  cpSync(dir, copy, { recursive: true, preserveTimestamps: true });
  assert.equal((await statusOf(copy))?.status, 'fix_pending');
});

test('commit history orders an APPROVED before a later FIX whatever the mtimes say', async () => {
  const dir = repoWith('approved-then-fix', 'APPROVED_11.md', 'FIX_11.md');
  const a = await statusOf(dir);
  assert.equal(a?.status, 'fix_pending');
  assert.equal(a?.fixOpen, true);
});

test('an uncommitted file in a repository is newer than every committed one', async () => {
  const dir = repoWith('uncommitted', 'APPROVED_11.md', 'FIX_11.md');
  // A reviewer approves the fix and has not committed yet; the mtime is old.
  writeFixtureFile(dir, { path: 'execution/feedbacks/APPROVED_11_v2.md', mtime: 500 });
  assert.equal((await statusOf(dir))?.status, 'approved');
});

test('commitTimes: one git call per plan folder, latest commit per file; null outside a repository', async () => {
  const dir = repoWith('times', 'FIX_11.md', 'APPROVED_11.md');
  const times = await commitTimes(dir);
  assert.ok(times);
  assert.equal(times.get('execution/feedbacks/FIX_11.md'), Date.parse('2026-01-01T10:00:00Z'));
  assert.equal(times.get('execution/feedbacks/APPROVED_11.md'), Date.parse('2026-01-05T10:00:00Z'));
  assert.equal(times.get('subplans/SUBPLAN_DEMO_11.md'), Date.parse('2026-01-01T10:00:00Z'));
  const outside = join(root, 'plain', 'DEMO');
  writePlan(join(root, 'plain'), 'DEMO', [{ path: 'PLAN_DEMO.md' }]);
  assert.equal(await commitTimes(outside), null);
});

test('parseLog keeps the newest commit of each file', () => {
  const log = '\x01200\n\na/X.md\n\x01100\n\na/X.md\na/Y.md\n';
  assert.deepEqual(
    [...parseLog(log)],
    [
      ['a/X.md', 200_000],
      ['a/Y.md', 100_000],
    ],
  );
});
