import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { tempDir } from '../../../test/helpers/plan-fixtures.ts';
import { defaultInterpreter, loadActionsConfig } from './actions.ts';

const { dir, cleanup } = tempDir('livestream-actions-');
after(cleanup);

function binWith(name: string, ...programs: string[]): string {
  const bin = join(dir, name);
  mkdirSync(bin, { recursive: true });
  for (const p of programs) {
    writeFileSync(join(bin, p), '#!/bin/sh\n');
    chmodSync(join(bin, p), 0o755);
  }
  return bin;
}

test('the default actions run `python`, as the plan scripts document; `python3` where only it exists', () => {
  const both = binWith('both', 'python', 'python3');
  const only3 = binWith('only3', 'python3');
  const none = binWith('none');
  assert.equal(defaultInterpreter(both), 'python');
  assert.equal(defaultInterpreter(only3), 'python3');
  assert.equal(defaultInterpreter(none), 'python', 'the error then names the documented command');

  const config = (path: string) =>
    loadActionsConfig({ plansDir: dir, projectRoot: dir, path }).commands;
  assert.deepEqual(config(both).executeNext, [
    'python',
    'LLM/scripts/generation/generate_prompt.py',
    '{planFile}',
    '--next',
    '--interactive',
  ]);
  assert.deepEqual(config(both).createSubplan.slice(0, 3), [
    'python',
    'LLM/scripts/generation/generate_subplan_prompt.py',
    'create',
  ]);
  assert.equal(config(only3).createExecution[0], 'python3');
  // A configured command is taken as written.
  const custom = loadActionsConfig({
    plansDir: dir,
    projectRoot: dir,
    path: only3,
    overrides: { executeNext: 'python tools/next.py {plan}' },
  });
  assert.deepEqual(custom.commands.executeNext, ['python', 'tools/next.py', '{plan}']);
});
