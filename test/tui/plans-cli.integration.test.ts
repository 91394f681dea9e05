import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { planText, tempDir, writePlan } from '../helpers/plan-fixtures.ts';
import { cliEntry, nodeBin, REPO } from './helpers.ts';

const { dir: project, cleanup } = tempDir('livestream-plans-cli-');
after(cleanup);
const plansDir = join(project, 'work-space', 'plans');
writePlan(plansDir, 'DEMO', [
  {
    path: 'PLAN_DEMO.md',
    text: planText('Demo', [
      ['1.1', 'One'],
      ['1.2', 'Two'],
    ]),
  },
  { path: 'execution/feedbacks/APPROVED_11.md' },
]);

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(nodeBin(), [cliEntry(), 'plans', ...args], {
      cwd: REPO,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.stdin.end();
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('plans --json prints the derived state of a project and exits', async () => {
  const { code, stdout } = await run([project, '--json']);
  assert.equal(code, 0);
  const out = JSON.parse(stdout);
  assert.equal(out.plansDir, plansDir);
  assert.deepEqual(
    out.plans.map((p: { id: string; progress: unknown; next: string[] }) => [
      p.id,
      p.progress,
      p.next,
    ]),
    [['DEMO', { done: 1, total: 2 }, ['1.2']]],
  );
  // The health score and its figures travel with the plan: 20 of 40 completion + 25 + 20 + 15.
  assert.deepEqual(
    [out.plans[0].health.score, out.plans[0].health.hoursLeft, out.plans[0].savings],
    [80, null, null],
  );
  assert.deepEqual(out.plans[0].health.idleExecutions, []);
});

test('a missing folder and a bad --poll are usage errors with a sentence', async () => {
  const missing = await run([join(project, 'nope'), '--json']);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /cannot read plans folder/);
  const poll = await run([project, '--poll', 'soon']);
  assert.notEqual(poll.code, 0);
  assert.match(poll.stderr, /invalid --poll 'soon'/);
  const notify = await run([project, '--desktop-notify']);
  assert.equal(notify.code, 2);
  assert.match(notify.stderr, /--desktop-notify needs --connect URL/);
});

test('with stdin not a terminal, a second instance does not wait on a prompt', async () => {
  const { PlansLock } = await import('../../src/sources/plans/lock.ts');
  const held = await PlansLock.acquire(plansDir);
  assert.ok(held.acquired);
  after(() => held.lock.releaseSync());
  const { code, stderr } = await run([project]);
  assert.equal(code, 3);
  assert.match(stderr, new RegExp(`pid ${process.pid}`));
  assert.match(stderr, /pass --yes/);
  assert.ok(held.lock.ownsFile(), 'the first lock is untouched');
});

test('plans --json into a reader that stops early ends quietly', async () => {
  const many = join(project, 'work-space', 'plans');
  for (let i = 0; i < 200; i++) {
    writePlan(many, `BULK-${i}`, [
      { path: `PLAN_BULK-${i}.md`, text: planText(`Bulk ${i}`, [['1.1', 'x']]) },
    ]);
  }
  try {
    const { status, stderr } = spawnSync(
      'sh',
      ['-c', `'${nodeBin()}' '${cliEntry()}' plans '${project}' --json | head -c 10`],
      { encoding: 'utf8' },
    );
    assert.equal(status, 0);
    assert.doesNotMatch(stderr, /EPIPE|Error|at /);
  } finally {
    for (let i = 0; i < 200; i++) rmSync(join(many, `BULK-${i}`), { recursive: true, force: true });
  }
});
