// Runs `livestream plans` through the real command registration, for the tmux tests.
import { Command } from 'commander';
import { register } from '../../src/commands/plans.ts';

const program = new Command('livestream').exitOverride();
register(program);
try {
  await program.parseAsync(process.argv);
} catch (error) {
  process.stderr.write(`livestream: ${(error as Error).message}\n`);
  process.exitCode = (error as { exitCode?: number }).exitCode ?? 1;
}
