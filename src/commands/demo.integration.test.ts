import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Command } from 'commander';
import { register } from './demo.ts';
import { CliError, EXIT } from './errors.ts';

const run = promisify(execFile);
const temps: string[] = [];
after(async () => {
  for (const dir of temps) await rm(dir, { recursive: true, force: true });
});

function program(): Command {
  const p = new Command('livestream').exitOverride().configureOutput({ writeErr: () => undefined });
  register(p);
  return p;
}

async function failure(args: string[]): Promise<CliError> {
  try {
    await program().parseAsync(['node', 'livestream', 'demo', ...args]);
  } catch (error) {
    if (error instanceof CliError) return error;
    throw error;
  }
  assert.fail(`expected a CliError for ${args.join(' ')}`);
}

describe('livestream demo', () => {
  it('refuses bad flags with one clear line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ls-democli-'));
    temps.push(dir);
    await writeFile(join(dir, 'file'), 'x');
    const cases: [string[], RegExp, number][] = [
      [['--sessions', '0'], /invalid --sessions '0'/, EXIT.usage],
      [['--sessions', '2.5'], /whole number/, EXIT.usage],
      [['--rate', '-1'], /invalid --rate '-1'/, EXIT.usage],
      [['--speed', 'fast'], /invalid --speed 'fast'/, EXIT.usage],
      [['--root', join(dir, 'missing')], /does not exist/, EXIT.unavailable],
      [['--root', join(dir, 'file')], /is not a folder/, EXIT.usage],
    ];
    for (const [args, message, code] of cases) {
      const error = await failure(args);
      assert.match(error.message, message);
      assert.equal(error.exitCode, code);
      assert.ok(!error.message.includes('\n'));
    }
  });

  it('runs a build to completion with one line per phase change', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ls-democli-'));
    temps.push(dir);
    const script = [
      "import { Command } from 'commander';",
      "import { register } from './src/commands/demo.ts';",
      "const p = new Command('livestream');",
      'register(p);',
      'await p.parseAsync(process.argv);',
    ].join('\n');
    const { stdout } = await run(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        script,
        'x',
        'demo',
        '--root',
        dir,
        '--rate',
        '500',
        '--once',
      ],
      { cwd: join(import.meta.dirname, '..', '..') },
    );
    const lines = stdout.trim().split('\n');
    assert.match(lines[0] as string, /^demo: writing 1 simulated build into /);
    assert.match(lines.at(-1) as string, /^demo: 15 updates, 1 of 1 builds completed in /);
    const phases = lines.slice(1, -1);
    assert.ok(phases.some((l) => /Builder \(4\.5\/8\) in_progress/.test(l)));
    assert.match(phases.at(-1) as string, /Feedback \(8\/8\) completed/);
    assert.equal((await readdir(join(dir, 'livestream-demo'))).length, 1);
  });
});
