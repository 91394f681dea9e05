import assert from 'node:assert/strict';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import {
  planText,
  tempDir,
  writeFixtureFile,
  writePlan,
} from '../../test/helpers/plan-fixtures.ts';
import type { PlanDetail } from '../shared/plans.ts';
import { DEFAULT_COMMANDS } from '../sources/plans/actions.ts';
import { PlansController, type PlansState } from './plans-host.ts';

const { dir: root, cleanup } = tempDir('livestream-ctl-');
after(cleanup);
let n = 0;

const config = (cwd: string) => ({
  commands: { ...DEFAULT_COMMANDS },
  cwd,
  timeoutMs: 10_000,
  source: 'test',
});

/** Resolves with the first state that satisfies `pred` (checked now and on every change). */
function until(
  c: PlansController,
  pred: (s: PlansState) => boolean,
  what: string,
  ms = 8000,
): Promise<PlansState> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (!pred(c.getState())) return false;
      off();
      clearTimeout(timer);
      resolve(c.getState());
      return true;
    };
    const off = c.subscribe(check);
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out waiting for ${what}`));
    }, ms);
    check();
  });
}

const plan = (s: PlansState, id: string): PlanDetail | undefined =>
  s.plans.find((p) => p.id === id);
const statusOf = (s: PlansState, id: string, a: string) =>
  plan(s, id)?.achievements.find((x) => x.id === a)?.status;

async function setup(pollMs: number | null) {
  const plansDir = join(root, `p${++n}`);
  const dir = writePlan(plansDir, 'DEMO', [
    {
      path: 'PLAN_DEMO.md',
      text: planText('Demo', [
        ['1.1', 'One'],
        ['1.2', 'Two'],
      ]),
    },
  ]);
  const c = new PlansController({ plansDir, config: config(plansDir), pollMs, spinnerMs: 50 });
  await c.start();
  return { plansDir, dir, c };
}

for (const pollMs of [null, 200]) {
  describe(pollMs ? 'watching by polling' : 'watching by file events', () => {
    test('create, modify, delete and rename plan files update the state', async (t) => {
      const { dir, c } = await setup(pollMs);
      t.after(() => c.close());
      assert.equal(statusOf(c.getState(), 'DEMO', '1.1'), 'not_started');

      writeFixtureFile(dir, { path: 'subplans/SUBPLAN_DEMO_11.md' });
      await until(
        c,
        (s) => statusOf(s, 'DEMO', '1.1') === 'ready',
        'a new subplan (new nested folder)',
      );

      writeFixtureFile(dir, { path: 'execution/feedbacks/FIX_11.md' });
      await until(
        c,
        (s) => statusOf(s, 'DEMO', '1.1') === 'fix_pending',
        'a FIX in a new nested folder',
      );

      renameSync(
        join(dir, 'execution/feedbacks/FIX_11.md'),
        join(dir, 'execution/feedbacks/APPROVED_11.md'),
      );
      await until(c, (s) => statusOf(s, 'DEMO', '1.1') === 'approved', 'a FIX renamed to APPROVED');

      writeFileSync(
        join(dir, 'PLAN_DEMO.md'),
        planText('Demo', [
          ['1.1', 'One'],
          ['1.2', 'Two'],
          ['1.3', 'Three'],
        ]),
      );
      await until(c, (s) => plan(s, 'DEMO')?.progress.total === 3, 'the modified PLAN index');

      rmSync(join(dir, 'execution/feedbacks/APPROVED_11.md'));
      await until(c, (s) => statusOf(s, 'DEMO', '1.1') === 'ready', 'a deleted APPROVED');
    });

    test('new plan folders appear and deleted ones disappear', async (t) => {
      const { plansDir, c } = await setup(pollMs);
      t.after(() => c.close());
      writePlan(plansDir, 'NEW', [{ path: 'PLAN_NEW.md', text: planText('New', [['1.1', 'x']]) }]);
      await until(c, (s) => plan(s, 'NEW') !== undefined, 'the new plan');
      rmSync(join(plansDir, 'NEW'), { recursive: true });
      await until(c, (s) => plan(s, 'NEW') === undefined && s.plans.length === 1, 'the plan to go');
    });
  });
}

test('changes are debounced into one reload, and unrelated files cause no render', async (t) => {
  const { plansDir, dir, c } = await setup(null);
  t.after(() => c.close());
  const seen: PlansState[] = [];
  t.after(c.subscribe(() => seen.push(c.getState())));
  writeFileSync(join(plansDir, 'README.md'), 'not a plan file');
  mkdirSync(join(dir, 'notes'));
  writeFileSync(join(dir, 'notes', 'x.md'), 'ignored');
  for (const num of ['11', '12'])
    writeFixtureFile(dir, { path: `subplans/SUBPLAN_DEMO_${num}.md` });
  await until(c, (s) => statusOf(s, 'DEMO', '1.2') === 'ready', 'both subplans');
  assert.equal(seen.length, 1, 'one render for the burst, none for unrelated files');
  assert.equal(statusOf(seen[0] as PlansState, 'DEMO', '1.1'), 'ready');
});

test('refresh clears caches, shows the spinner, reloads and stamps the time', async (t) => {
  let clock = 1_000;
  const plansDir = join(root, `p${++n}`);
  writePlan(plansDir, 'DEMO', [{ path: 'PLAN_DEMO.md', text: planText('Demo', [['1.1', 'One']]) }]);
  const c = new PlansController({
    plansDir,
    config: config(plansDir),
    spinnerMs: 50,
    now: () => clock,
  });
  t.after(() => c.close());
  await c.start();
  const states: PlansState[] = [];
  t.after(c.subscribe(() => states.push(c.getState())));
  clock = 2_000;
  await c.refresh();
  assert.equal(states[0]?.refreshing, true, 'the spinner shows first');
  const last = c.getState();
  assert.deepEqual([last.refreshing, last.loadedAt], [false, 2_000]);
  // Unchanged plans keep their identity: views skip them.
  assert.equal(states.at(-1)?.plans[0], states[0]?.plans[0]);
});

test('an action shows its output and exit status and is followed by a refresh', async (t) => {
  const plansDir = join(root, `p${++n}`);
  const dir = writePlan(plansDir, 'DEMO', [
    { path: 'PLAN_DEMO.md', text: planText('Demo', [['1.1', 'One']]) },
    { path: 'subplans/SUBPLAN_DEMO_11.md' },
  ]);
  const script = join(plansDir, 'approve.mjs');
  writeFileSync(
    script,
    `import { mkdirSync, writeFileSync } from 'node:fs';
const [dir, id] = process.argv.slice(2);
mkdirSync(dir + '/execution/feedbacks', { recursive: true });
writeFileSync(dir + '/execution/feedbacks/APPROVED_' + id.replace('.', '') + '.md', 'ok');
console.log('approved ' + id); console.error('to stderr'); process.exit(3);`,
  );
  // No watcher: the refresh after the action is what must show the change.
  const c = new PlansController({
    plansDir,
    config: {
      ...config(plansDir),
      commands: {
        ...DEFAULT_COMMANDS,
        createExecution: [process.execPath, script, '{planDir}', '{achievement}'],
        createSubplan: ['livestream-no-such-command-xyz', '{plan}'],
      },
    },
    spinnerMs: 10,
  });
  t.after(() => c.close());
  await c.start();
  const run = await c.run('DEMO', 'createExecution', '1.1');
  assert.deepEqual(
    [run?.exitCode, run?.lines, run?.running],
    [3, ['approved 1.1', 'to stderr'], false],
  );
  assert.deepEqual(run?.argv.slice(2), [dir, '1.1']);
  await until(c, (s) => statusOf(s, 'DEMO', '1.1') === 'approved', 'the refresh after the action');

  const missing = await c.run('DEMO', 'createSubplan', '1.1');
  assert.equal(missing?.exitCode, null);
  assert.match(missing?.error ?? '', /livestream-no-such-command-xyz was not found/);
  c.dismissAction();
  assert.equal(c.getState().action, null);
});

test('create execution without a subplan explains instead of running', async (t) => {
  const { c } = await setup(null);
  t.after(() => c.close());
  const run = await c.run('DEMO', 'createExecution', '1.2');
  assert.match(run?.error ?? '', /1\.2 has no SUBPLAN yet/);
  assert.deepEqual(run?.argv, []);
});
