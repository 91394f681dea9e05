import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { MemoryHub } from '../hub/hub.ts';
import { PlansEngine } from '../hub/plans-engine.ts';
import { loadActionsConfig } from '../sources/plans/actions.ts';
import { PlansDirSource } from '../sources/plans/dir-source.ts';
import { projectRootOf, resolvePlansDir } from '../sources/plans/read.ts';
import { CliError, EXIT } from './errors.ts';
import type { PlansController } from './plans-host.ts';

interface PlansFlags {
  json?: boolean;
  poll?: string | boolean;
  config?: string;
  connect?: string;
  token?: string;
  yes?: boolean;
  desktopNotify?: boolean;
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

/** `--json`: one read of the folder through the same source and engine as the dashboard. */
async function printJson(plansDir: string): Promise<void> {
  const engine = new PlansEngine({ hub: new MemoryHub() });
  await new PlansDirSource(plansDir, (event) => engine.apply(event)).scan();
  process.stdout.write(`${JSON.stringify({ plansDir, plans: engine.details() }, null, 2)}\n`);
}

async function action(dir: string | undefined, flags: PlansFlags): Promise<void> {
  // `--connect URL` without a folder: the server's plans; with one, that folder's.
  const plansFromServer = Boolean(flags.connect) && dir === undefined && !flags.json;
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
  // Checked before --json too: a bad flag is an error whatever the output.
  const pollMs = parsePoll(flags.poll);
  if (flags.json) {
    await printJson(plansDir);
    return;
  }
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
  const { runDashboard } = await import('./plans-dashboard.tsx');
  const { buildsSource, serverAlerts } = await import('./plans-builds.ts');
  const { notifyNewAlerts } = await import('./plans-notify.ts');
  const url = flags.connect;
  if (flags.desktopNotify && !url) {
    throw new CliError(
      '--desktop-notify needs --connect URL: alerts come from a server',
      EXIT.usage,
    );
  }
  const code = await runDashboard({
    plansDir,
    config,
    pollMs,
    yes: flags.yes ?? false,
    builds: url ? { url, source: buildsSource(url, flags.token) } : null,
    plansFromServer,
    alerts: url ? serverAlerts(url, flags.token) : null,
    ...(url && flags.desktopNotify
      ? {
          onAlerts: (controller: PlansController) => {
            const off = notifyNewAlerts(controller.store, url, {
              onError: (message) => controller.store.dispatch({ type: 'notice', message }),
            });
            if (!off) {
              controller.store.dispatch({
                type: 'notice',
                message: 'Desktop notifications are off: notify-send is not installed.',
              });
            }
            return off ?? (() => undefined);
          },
        }
      : {}),
  });
  if (code !== 0) process.exitCode = code;
}

/** `livestream plans [DIR]`: the plan dashboard, or `--json` for scripts. */
export function register(program: Command): void {
  program
    .command('plans')
    .description('Dashboard of LLM-driven plan folders (work-space/plans/<PLAN>/)')
    .argument(
      '[dir]',
      'a project (holding work-space/plans) or a plans folder (default: the current folder; with --connect and no folder, the server’s plans)',
    )
    .option('--json', 'print the derived state of every plan as JSON and exit')
    .option('--poll [seconds]', 'poll instead of file events (network filesystems); default 2 s')
    .option('--config <file>', 'actions config (default: <plans>/.livestream-plans.json)')
    .option('--execute-next <command>', 'command for "execute next" ({plan}, {achievement}, ...)')
    .option('--create-subplan <command>', 'command for "create subplan"')
    .option('--create-execution <command>', 'command for "create execution"')
    .option(
      '--connect <url>',
      'a running livestream server: its builds, agents and attention queue (and its plans, when no folder is given)',
    )
    .option(
      '--token <token>',
      'token of the server given with --connect',
      process.env.LIVESTREAM_TOKEN,
    )
    .option('--desktop-notify', 'desktop notifications (notify-send) for new alerts from --connect')
    .option('-y, --yes', 'run even when another instance is open on the same folder')
    .action(action);
}
