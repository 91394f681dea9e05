import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { tempDir, writePlan } from '../helpers/plan-fixtures.ts';
import { capture, hasTmux, killSession, REPO, tmux, waitForScreen } from './helpers.ts';

/**
 * A project shaped like FernandoBDAF/context-manager's work-space/plans (its
 * facts, our prose): plans at the top and in grouping folders, a stray PLAN
 * file in a grouping folder, an index of `- ✅ Achievement` lines, a plan that
 * lists `**Achievement N.N**:` under "Desirable Achievements", the file names
 * its producer writes, and reviews that declare their dates.
 */
const { dir: base, cleanup } = tempDir('livestream-real-plans-');
after(cleanup);
const project = join(base, 'my-project');
const plans = join(project, 'work-space', 'plans');
const DAY = 86_400;
const T0 = 1_763_000_000; // seconds; every mtime below is relative to it

writePlan(plans, 'DASHBOARD-CLI', [
  {
    path: 'PLAN_DASHBOARD-CLI.md',
    text: '# PLAN: Dashboard CLI\n\n## 📋 Achievement Index\n\n- ✅ Achievement 0.1: **Framework** Setup\n- ✅ Achievement 0.2: Plan Discovery\n- Achievement 1.1: Plan Screen\n',
  },
  { path: 'subplans/SUBPLAN_DASHBOARD-CLI_01.md' },
  { path: 'execution/EXECUTION_TASK_DASHBOARD-CLI_01_01.md' },
  { path: 'execution/INDEX.md' },
  // Reviewed twice: a FIX, then the approval. Their dates say so, whatever the mtimes.
  { path: 'execution/feedbacks/FIX_01.md', text: '# FIX\n\n**Review Date**: 2025-11-12\n' },
  {
    path: 'execution/feedbacks/APPROVED_01.md',
    text: '# APPROVED: Achievement 0.1\n\n**Reviewer**: someone\n**Review Date**: 2025-11-13\n',
  },
  { path: 'execution/feedbacks/Approved_02.md', text: '**Review Date**: 2025-11-13\n' },
  { path: 'subplans/SUBPLAN_DASHBOARD-CLI_11.md' },
]);
writePlan(join(plans, 'a_real-use-cases'), 'OBSERVABILITY-VALIDATION', [
  {
    path: 'PLAN_OBSERVABILITY-VALIDATION.md',
    text: '# PLAN: Observability Validation\n\n## 🎯 Desirable Achievements\n\n### Priority 0\n\n**Achievement 0.1**: Baseline Run (2-3h)\n\n**Achievement 2.1**: Metrics Validated\n\n**Achievement 2.3: Queries Validated**\n',
  },
  { path: 'execution/EXECUTION_TASK_OBSERVABILITY-VALIDATION_01_01.md' },
  { path: 'execution/EXECUTION_TASK_OBSERVABILITY-VALIDATION_01_02_RECOVERY.md' },
  { path: 'execution/EXECUTION_TASK_OBSERVABILITY-VALIDATION_21_01_V2.md' },
  { path: 'execution/ACHIEVEMENT-2.1-FINAL-SUMMARY.md' },
  { path: 'execution/feedbacks/APPROVED_01.md', text: '**Review Date**: 2025-11-12\n' },
  { path: 'execution/feedbacks/FIX_21.md', text: '**Review Date**: 2025-11-12\n' },
  {
    path: 'execution/feedbacks/FIX_21_RESOLUTION.md',
    text: '# FIX_21 RESOLUTION\n\n**Resolution Date**: 2025-11-12\n',
  },
  { path: 'execution/feedbacks/APPROVED_23_v2.md', text: '**Review Date**: 2025-11-14\n' },
]);
writePlan(join(plans, 'a_real-use-cases'), 'ENTITY-RESOLUTION-ANALYSIS', [
  {
    path: 'PLAN_ENTITY-RESOLUTION-ANALYSIS.md',
    text: '# PLAN: A\n\n## 📋 Achievement Index\n- Achievement 1.1: A\n',
  },
]);
writePlan(join(plans, 'a_real-use-cases'), 'ENTITY-RESOLUTION-REFACTOR', [
  {
    path: 'PLAN_ENTITY-RESOLUTION-REFACTOR.md',
    text: '# PLAN: R\n\n## 📋 Achievement Index\n- Achievement 0.1: R\n',
  },
]);
writePlan(join(plans, 'a_paused'), 'PROMPT-SYSTEM', [
  {
    path: 'PLAN_PROMPT-SYSTEM.md',
    text: '# PLAN: Prompt System\n\n## Achievement Index\n- Achievement 0.1: One\n',
  },
  { path: 'pause.txt' },
]);
// A stray PLAN file in a grouping folder is not a plan.
writePlan(plans, 'a_paused', [{ path: 'PLAN_OLD-IDEA.md', text: '# PLAN: Old idea\n' }]);

/** Sets every file's mtime: the FIX files newest, as a careless copy may leave them. */
function scramble(dir: string): void {
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const path = join(dir, name);
    if (!statSync(path).isFile()) continue;
    const t = name.includes('FIX_') ? T0 + 3 * DAY : T0;
    utimesSync(path, t, t);
  }
}

function plansJson(cwd: string): Promise<{
  plansDir: string;
  plans: {
    id: string;
    group: string | null;
    status: string;
    progress: { done: number; total: number };
    next: string[];
    warnings: string[];
    achievements: { id: string; status: string; title: string | null }[];
  }[];
}> {
  return new Promise((resolve, reject) => {
    // The real launcher, from the project's own folder: no path argument.
    const child = spawn(
      process.execPath,
      [join(REPO, 'bin', 'livestream.mjs'), 'plans', '--json'],
      {
        cwd,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      err += c.toString();
    });
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`exit ${code}: ${err}`));
      else resolve(JSON.parse(out));
    });
  });
}

async function assertRealState(cwd: string): Promise<void> {
  const out = await plansJson(cwd);
  const byId = new Map(out.plans.map((p) => [p.id, p]));
  assert.deepEqual([...byId.keys()].sort(), [
    'DASHBOARD-CLI',
    'ENTITY-RESOLUTION-ANALYSIS',
    'ENTITY-RESOLUTION-REFACTOR',
    'OBSERVABILITY-VALIDATION',
    'PROMPT-SYSTEM',
  ]);
  const dash = byId.get('DASHBOARD-CLI');
  assert.equal(dash?.group, null);
  assert.deepEqual(
    dash?.achievements.map((a) => [a.id, a.status]),
    [
      ['0.1', 'approved'],
      ['0.2', 'approved'],
      ['1.1', 'ready'],
    ],
  );
  assert.equal(dash?.achievements[0]?.title, '**Framework** Setup');
  assert.deepEqual(dash?.progress, { done: 2, total: 3 });
  assert.deepEqual(dash?.next, ['1.1']);
  assert.ok(dash?.warnings.some((w) => w.includes('INDEX.md')));
  const obs = byId.get('OBSERVABILITY-VALIDATION');
  assert.equal(obs?.group, 'a_real-use-cases');
  assert.deepEqual(
    obs?.achievements.map((a) => [a.id, a.status]),
    [
      ['0.1', 'approved'],
      ['2.1', 'in_progress'],
      ['2.3', 'approved'],
    ],
  );
  assert.deepEqual(obs?.next, ['2.1']);
  assert.ok(obs?.warnings.some((w) => w.includes('ACHIEVEMENT-2.1-FINAL-SUMMARY.md')));
  assert.equal(byId.get('PROMPT-SYSTEM')?.group, 'a_paused');
}

test('plans --json from the project folder, outside the checkout: real index forms, groupings, file names', async () => {
  await assertRealState(project);
});

test('a cp -r copy with scrambled mtimes keeps every status (reviews order by their declared dates)', async () => {
  const copy = join(base, 'copy');
  execFileSync('cp', ['-r', project, copy]);
  scramble(copy);
  await assertRealState(copy);
});

test('a fresh git repository with history shows the same', async () => {
  const repo = join(base, 'repo');
  execFileSync('cp', ['-r', project, repo]);
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: repo });
  git('init', '-q');
  git('add', '-A');
  git('commit', '-qm', 'plans');
  const clone = join(base, 'clone');
  execFileSync('git', ['clone', '-q', repo, clone]);
  await assertRealState(clone);
});

test('the TUI from the project folder: first frame with every plan, groupings, attention first, bursts of keys', {
  skip: !hasTmux,
}, async (t) => {
  const session = `plans-real-${process.pid}`;
  t.after(() => killSession(session));
  tmux(
    'new-session',
    '-d',
    '-s',
    session,
    '-x',
    '80',
    '-y',
    '24',
    '-c',
    project,
    `${process.execPath} ${join(REPO, 'bin', 'livestream.mjs')} plans; echo EXIT=$?; sleep 60`,
  );
  // The first frame comes before the read ends ("reading…"); the order is judged once every plan is in.
  const { screen } = await waitForScreen(
    session,
    (s) => s.includes('PROMPT-SYSTEM') && !s.includes('reading…'),
    'every plan read',
  );
  assert.doesNotMatch(screen, /React is not defined/);
  const rows = screen.split('\n');
  const first = rows.findIndex((r) => /^\s+1 /.test(r));
  assert.match(rows[first] ?? '', /OBSERVABILI|DASHBOARD/, 'work under way is on top');
  // Both ENTITY-RESOLUTION-* plans are told apart at 80 columns.
  assert.match(screen, /ANALYSIS/);
  assert.match(screen, /REFACTOR/);
  assert.match(screen, /·paused/);
  tmux('send-keys', '-t', session, 'g');
  await waitForScreen(session, (s) => /plans? in top level/.test(s), 'the group filter');
  tmux('send-keys', '-t', session, 'g');
  await waitForScreen(session, (s) => /in paused/.test(s), 'the paused group');
  assert.doesNotMatch(capture(session), /DASHBOARD-CLI/);
  tmux('send-keys', '-t', session, 'q');
  await waitForScreen(session, (s) => s.includes('EXIT=0'), 'exit');
});
