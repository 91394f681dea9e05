import { homedir, hostname } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { createLogger, type LogFormat } from '../logger.ts';
import { HOST_NAME, safeHostName } from '../shared/forward.ts';
import { redact } from '../store/redact.ts';
import { CliError, EXIT } from './errors.ts';
import {
  type AgentFolderFlags,
  agentFolders,
  checkRoots,
  collect,
  parseLogFormat,
  parsePositiveInt,
} from './options.ts';

interface ForwardFlags extends AgentFolderFlags {
  to: string;
  token?: string;
  root?: string[];
  host?: string;
  outbox?: string;
  outboxMb: number;
  poll?: number;
  logFormat?: LogFormat;
}

/** A machine name the dashboard can show: the flag, else this machine's name made safe. */
function hostOf(flag: string | undefined): string {
  if (flag !== undefined) {
    if (!HOST_NAME.test(flag)) {
      throw new CliError(
        `invalid --host '${flag}': letters, digits, '.', '_' and '-', up to 63 characters`,
        EXIT.usage,
      );
    }
    return flag;
  }
  return safeHostName(hostname());
}

function targetOf(to: string): string {
  let url: URL;
  try {
    url = new URL(to);
  } catch {
    throw new CliError(
      `invalid --to '${to}': use the server's URL, http(s)://host:port`,
      EXIT.usage,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CliError(`invalid --to '${to}': use http:// or https://`, EXIT.usage);
  }
  return url.toString().replace(/\/$/, '');
}

async function forward(flags: ForwardFlags): Promise<void> {
  const to = targetOf(flags.to);
  const host = hostOf(flags.host);
  const roots = checkRoots(flags.root && flags.root.length > 0 ? flags.root : [process.cwd()]);
  const outboxPath = resolve(
    flags.outbox ?? join(homedir(), '.livestream', `forward-outbox-${host}.db`),
  );
  const agents = agentFolders(flags);
  const logger = createLogger(flags.logFormat ? { format: flags.logFormat } : {});
  const { Forwarder } = await import('../sources/forwarder.ts');
  const forwarder = new Forwarder({
    to,
    token: flags.token ?? process.env.LIVESTREAM_FORWARD_TOKEN ?? null,
    roots,
    host,
    outboxPath,
    outboxMaxBytes: flags.outboxMb * 1024 * 1024,
    logger,
    pollMs: flags.poll ? flags.poll * 1000 : null,
    agents,
  });
  await forwarder.start();
  const queued = forwarder.stats.queued;
  process.stdout.write(
    `Forwarding ${roots.join(', ')} to ${redact(to)} as ${host}; outbox ${outboxPath}${queued > 0 ? ` (${queued} events waiting)` : ''}\n`,
  );
  const agentDirs = agents ? [...agents.claudeDirs, ...agents.codexDirs] : [];
  if (agentDirs.length > 0)
    process.stdout.write(`Forwarding coding agents in ${agentDirs.join(', ')}\n`);
  await new Promise<void>((resolveStop) => {
    const shutdown = () => {
      forwarder.stop().then(resolveStop, resolveStop);
    };
    process.once('SIGINT', shutdown);
    process.once('SIGTERM', shutdown);
  });
}

export function register(program: Command): void {
  program
    .command('forward')
    .description(
      'Watch this machine’s builds and send their events to a central Livestream server (kept on disk while it is away)',
    )
    .requiredOption('--to <url>', 'the central server, e.g. https://livestream.example:8080')
    .option('--token <secret>', 'this machine’s forwarder token (env LIVESTREAM_FORWARD_TOKEN)')
    .option('-r, --root <dir>', 'folder to watch, repeatable (default: current directory)', collect)
    .option('--host <name>', 'this machine’s name on the dashboard (default: its hostname)')
    .option('--outbox <file>', 'the outbox file (default ~/.livestream/forward-outbox-<host>.db)')
    .option(
      '--outbox-mb <n>',
      'most the outbox keeps while the server is away; past it the oldest events go',
      parsePositiveInt('outbox size'),
      64,
    )
    .option(
      '--poll <seconds>',
      'poll the roots instead of OS file events (network filesystems)',
      parsePositiveInt('poll interval'),
    )
    .option(
      '--claude-dir <dir>',
      'Claude Code folder holding projects/, repeatable (default as serve: $CLAUDE_CONFIG_DIR, or ~/.claude and ~/.config/claude)',
      collect,
    )
    .option(
      '--codex-dir <dir>',
      'Codex folder holding sessions/, repeatable (default $CODEX_HOME or ~/.codex)',
      collect,
    )
    .option('--no-agents', 'do not forward Claude Code and Codex sessions')
    .option(
      '--log-format <format>',
      'pretty or json (default: pretty on a terminal)',
      parseLogFormat,
    )
    .action((flags: ForwardFlags) => forward(flags));
}
