import { createRequire } from 'node:module';
import { Command, CommanderError } from 'commander';
import { register as registerDemo } from './commands/demo.ts';
import { CliError, EXIT } from './commands/errors.ts';
import { register as registerForward } from './commands/forward.ts';
import { register as registerHooks } from './commands/hooks.ts';
import { register as registerNotify } from './commands/notify.ts';
import { register as registerPlans } from './commands/plans.ts';
import { register as registerPush } from './commands/push.ts';
import { register as registerServe } from './commands/serve.ts';
import { register as registerStatus } from './commands/status.ts';

/** From package.json, one folder up from both src/cli.ts and the built dist/cli.js. */
function packageVersion(): string {
  return (createRequire(import.meta.url)('../package.json') as { version: string }).version;
}

/**
 * The `livestream` command. Each command lives in `src/commands/<name>.ts` and
 * registers itself here; this file only parses and maps errors to exit codes.
 */
export function buildProgram(): Command {
  const program = new Command('livestream')
    .description('Real-time dashboards for autonomous AI builds and LLM-driven plans')
    .version(packageVersion(), '-V, --version', 'print the version')
    .exitOverride()
    .showHelpAfterError('(run livestream --help for usage)');
  for (const register of [
    registerServe,
    registerStatus,
    registerPush,
    registerDemo,
    registerPlans,
    registerHooks,
    registerNotify,
    registerForward,
  ]) {
    register(program);
  }
  return program;
}

async function main(argv: string[]): Promise<void> {
  // `livestream status | head`: a reader that stops early ends the output, not with a stack trace.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(EXIT.ok);
    throw error;
  });
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode === 0 ? EXIT.ok : EXIT.usage;
      return;
    }
    if (error instanceof CliError) {
      process.stderr.write(`livestream: ${error.message}\n`);
      process.exitCode = error.exitCode;
      return;
    }
    process.stderr.write(`livestream: unexpected error: ${(error as Error).message}\n`);
    process.exitCode = EXIT.failure;
  }
}

// Re-executed by bin/livestream.mjs with a channel: if the launcher is killed
// outright (SIGKILL), die the same way rather than run on unowned.
if (process.channel) {
  process.once('disconnect', () => process.kill(process.pid, 'SIGKILL'));
  process.channel.unref();
}
await main(process.argv);
