import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { loadActionsConfig } from '../sources/plans/actions.ts';
import { projectRootOf, resolvePlansDir } from '../sources/plans/read.ts';
import { PlansRepository } from '../sources/plans/repository.ts';
import { CliError, EXIT } from './errors.ts';

interface PlansFlags {
  json?: boolean;
  poll?: string | boolean;
  config?: string;
  connect?: string;
  token?: string;
  yes?: boolean;
  executeNext?: string;
  createSubplan?: string;
  createExecution?: string;
}

/** `--poll` alone means every 2 s; `--poll 5` every 5 s. */
export function parsePoll(value: string | boolean | undefined): number | null {
  if (value === undefined || value === false) return null;
  if (value === true) return 2000;
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds < 0.1 || seconds > 3600) {
    throw new CliError(`invalid --poll '${value}': use seconds between 0.1 and 3600`, EXIT.usage);
  }
  return Math.round(seconds * 1000);
}

async function action(dir: string | undefined, flags: PlansFlags): Promise<void> {
  const base = resolve(dir ?? '.');
  try {
    if (!statSync(base).isDirectory()) throw new Error('not a folder');
  } catch {
    throw new CliError(
      `cannot read plans folder '${base}': check that it exists`,
      EXIT.unavailable,
    );
  }
  const plansDir = resolvePlansDir(base);
  if (flags.json) {
    const plans = await new PlansRepository(plansDir).load();
    process.stdout.write(`${JSON.stringify({ plansDir, plans }, null, 2)}\n`);
    return;
  }
  const pollMs = parsePoll(flags.poll);
  let config: ReturnType<typeof loadActionsConfig>;
  try {
    config = loadActionsConfig({
      plansDir,
      projectRoot: projectRootOf(plansDir),
      ...(flags.config ? { configPath: flags.config } : {}),
      overrides: {
        ...(flags.executeNext ? { executeNext: flags.executeNext } : {}),
        ...(flags.createSubplan ? { createSubplan: flags.createSubplan } : {}),
        ...(flags.createExecution ? { createExecution: flags.createExecution } : {}),
      },
    });
  } catch (error) {
    throw new CliError((error as Error).message, EXIT.usage);
  }
  // Ink and React load only for the interactive dashboard.
  const { runDashboard } = await import('../tui/run.tsx');
  const { buildsSource } = await import('../tui/builds.ts');
  const code = await runDashboard({
    plansDir,
    config,
    pollMs,
    yes: flags.yes ?? false,
    builds: flags.connect
      ? { url: flags.connect, source: buildsSource(flags.connect, flags.token) }
      : null,
  });
  if (code !== 0) process.exitCode = code;
}

/** `livestream plans [DIR]`: the plan dashboard, or `--json` for scripts. */
export function register(program: Command): void {
  program
    .command('plans')
    .description('Dashboard of LLM-driven plan folders (work-space/plans/<PLAN>/)')
    .argument('[dir]', 'a project (holding work-space/plans) or a plans folder', '.')
    .option('--json', 'print the derived state of every plan as JSON and exit')
    .option('--poll [seconds]', 'poll instead of file events (network filesystems); default 2 s')
    .option('--config <file>', 'actions config (default: <plans>/.livestream-plans.json)')
    .option('--execute-next <command>', 'command for "execute next" ({plan}, {achievement}, ...)')
    .option('--create-subplan <command>', 'command for "create subplan"')
    .option('--create-execution <command>', 'command for "create execution"')
    .option('--connect <url>', 'show live build sessions from a running livestream server')
    .option(
      '--token <token>',
      'token of the server given with --connect',
      process.env.LIVESTREAM_TOKEN,
    )
    .option('-y, --yes', 'run even when another instance is open on the same folder')
    .action(action);
}
