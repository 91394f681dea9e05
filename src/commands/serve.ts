import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { Logger } from 'pino';
import type { App } from '../app.ts';
import { AttentionConfig } from '../attention-config.ts';
import {
  type AppConfig,
  DEFAULT_HOST,
  DEFAULT_PORT,
  DEFAULT_RETENTION_DAYS,
  DEFAULT_TOKEN_BUDGET,
  defaultDbPath,
  defaultWebDir,
} from '../config.ts';
import { createLogger, type LogFormat } from '../logger.ts';
import { parseWebhookUrl } from '../notify/channels.ts';
import type { Replica } from '../replica.ts';
import { isLoopback } from '../server/loopback.ts';
import { redact } from '../store/redact.ts';
import { CliError, EXIT } from './errors.ts';
import {
  agentFolders,
  checkRoots,
  collect,
  parseLogFormat,
  parsePort,
  parsePositiveInt,
} from './options.ts';

interface ServeFlags {
  root?: string[];
  port?: number;
  host?: string;
  db?: string;
  store?: string;
  bus?: string;
  retentionDays: number;
  token?: string;
  insecure?: boolean;
  allowOrigin?: string[];
  poll?: number;
  tokenBudget: number;
  logFormat?: LogFormat;
  claudeDir?: string[];
  codexDir?: string[];
  /** commander's negation of `--agents`: false with `--no-agents`. */
  agents: boolean;
  prices?: string;
  webhook?: string[];
  attentionConfig?: string;
  desktopNotify?: boolean;
  maxConnections?: number;
  maxConnectionsPerAddress?: number;
  idleTimeout?: number;
  forwarderTokens?: string;
}

/**
 * The one-time login line. On a wildcard bind (0.0.0.0, ::) the listening URL is no
 * address a browser elsewhere can open, so the link names this machine instead.
 */
function loginLine(url: string, loginPath: string): string {
  const at = new URL(url);
  if (at.hostname === '0.0.0.0' || at.hostname === '[::]') at.hostname = hostname();
  return `Open ${at.origin}${loginPath} once in your browser to log in.`;
}

/** Checks each `--webhook` without ever echoing it: the URL holds the receiver's secret. */
function checkWebhooks(urls: readonly string[]): string[] {
  return urls.map((text, i) => {
    try {
      parseWebhookUrl(text);
    } catch (error) {
      throw new CliError(`invalid --webhook #${i + 1}: ${(error as Error).message}`, EXIT.usage);
    }
    return text;
  });
}

function checkAttentionConfig(path: string | undefined): string | null {
  if (path === undefined) return null;
  try {
    new AttentionConfig({ file: path, logger: createLogger({ level: 'silent' }) });
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    const why = e.code ? `cannot read it (${e.code})` : e.message;
    throw new CliError(`--attention-config ${path}: ${why}`, EXIT.usage);
  }
  return resolve(path);
}

/** A file the server reads at start (and again later): refused now if it cannot be read. */
function checkReadable(flag: string, path: string | undefined): string | null {
  if (path === undefined) return null;
  try {
    readFileSync(path);
  } catch (error) {
    throw new CliError(
      `${flag} ${path}: cannot read it (${(error as NodeJS.ErrnoException).code})`,
      EXIT.usage,
    );
  }
  return resolve(path);
}

export function resolveServeConfig(flags: ServeFlags, env = process.env): AppConfig {
  const host = flags.host ?? env.LIVESTREAM_HOST ?? DEFAULT_HOST;
  const token = flags.token ?? env.LIVESTREAM_TOKEN ?? null;
  if (!isLoopback(host) && !token && !flags.insecure) {
    throw new CliError(
      `refusing to listen on ${host} without a token: pass --token <secret> (or --insecure to allow anyone on the network)`,
      EXIT.usage,
    );
  }
  const dbPath = flags.db ?? defaultDbPath(env);
  return {
    roots: checkRoots(flags.root && flags.root.length > 0 ? flags.root : [process.cwd()]),
    port: flags.port ?? (env.LIVESTREAM_PORT ? parsePort(env.LIVESTREAM_PORT) : DEFAULT_PORT),
    host,
    dbPath,
    storeUrl: parseStoreUrl(flags.store ?? env.LIVESTREAM_STORE),
    retentionDays: flags.retentionDays,
    token,
    allowedOrigins: flags.allowOrigin ?? [],
    insecure: flags.insecure === true,
    pollMs: flags.poll ? flags.poll * 1000 : null,
    tokenBudget: flags.tokenBudget,
    webDir: defaultWebDir(),
    webhooks: checkWebhooks(flags.webhook ?? []),
    attentionConfigPath: checkAttentionConfig(flags.attentionConfig),
    desktopNotify: flags.desktopNotify === true,
    agents: resolveAgents(flags, env, dbPath),
    connections: {
      ...(flags.maxConnections ? { maxTotal: flags.maxConnections } : {}),
      ...(flags.maxConnectionsPerAddress ? { maxPerAddress: flags.maxConnectionsPerAddress } : {}),
      ...(flags.idleTimeout ? { idleMs: flags.idleTimeout * 1000 } : {}),
    },
    forwarderTokensPath: checkReadable('--forwarder-tokens', flags.forwarderTokens),
  };
}

/** Which agent transcripts `serve` follows: the defaults, the flags' folders, or none. */
function resolveAgents(
  flags: ServeFlags,
  env: NodeJS.ProcessEnv,
  dbPath: string,
): AppConfig['agents'] {
  const folders = agentFolders(flags, env);
  if (!folders) return null;
  return {
    ...folders,
    pricesFile: flags.prices ? resolve(flags.prices) : null,
    checkpointPath: dbPath === ':memory:' ? null : `${dbPath}.agents.json`,
  };
}

/** `postgres://…` or `postgresql://…`; anything else is a usage error naming what is accepted. */
function parseStoreUrl(value: string | undefined): string | null {
  if (value === undefined || value === '') return null;
  if (/^postgres(ql)?:\/\//.test(value)) return value;
  throw new CliError(
    `--store takes a PostgreSQL URL (postgres://user@host:5432/db); for SQLite use --db <path>`,
    EXIT.usage,
  );
}

function explainListenError(error: NodeJS.ErrnoException, config: AppConfig): never {
  if (error.code === 'EADDRINUSE') {
    throw new CliError(
      `port ${config.port} is already in use: stop the other server or pass --port <n>`,
      EXIT.unavailable,
    );
  }
  if (error.code === 'EACCES') {
    throw new CliError(
      `not allowed to listen on port ${config.port}: use a port above 1024`,
      EXIT.unavailable,
    );
  }
  if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND') {
    throw new CliError(
      `cannot listen on host '${config.host}': it is not an address of this machine`,
      EXIT.unavailable,
    );
  }
  throw error;
}

async function serve(flags: ServeFlags): Promise<void> {
  const config = resolveServeConfig(flags);
  const logger = createLogger(flags.logFormat ? { format: flags.logFormat } : {});
  const busUrl = flags.bus ?? process.env.LIVESTREAM_BUS;
  if (busUrl) return serveReplica(config, logger, busUrl);
  let app: App;
  try {
    // Loaded here, not at the top: `livestream --help` should not load Fastify and SQLite.
    const { createApp } = await import('../app.ts');
    // Listening is said at once; the roots are read after it (20,000 folders take seconds).
    app = await createApp({
      config,
      logger,
      onListening: (url, loginPath) => {
        // One write, so whoever waits for the "listening" line sees the login line with it.
        const lines = [`Livestream listening on ${url}`];
        if (loginPath) lines.push(loginLine(url, loginPath));
        process.stdout.write(`${lines.join('\n')}\n`);
      },
    });
  } catch (error) {
    const err = error as NodeJS.ErrnoException;
    if (config.storeUrl && /PostgreSQL/.test(err.message)) {
      throw new CliError(`${err.message} (check --store)`, EXIT.unavailable);
    }
    if (err.code === 'ERR_SQLITE_ERROR' || /database|sqlite/i.test(err.message)) {
      throw new CliError(
        `cannot open the database ${config.dbPath}: ${err.message} (pass --db <path>)`,
        EXIT.unavailable,
      );
    }
    return explainListenError(err, config);
  }
  // Once the roots are read: whoever waits for "Watching" sees the state on disk.
  const lines: string[] = [];
  const history = config.storeUrl ? redact(config.storeUrl) : config.dbPath;
  lines.push(`Watching ${config.roots.join(', ')}; history in ${history}`);
  const channels = app.notifier.channels.map((c) => c.label);
  if (channels.length > 0) lines.push(`Alerts go to ${channels.join(', ')}`);
  if (config.agents) {
    const dirs = [...config.agents.claudeDirs, ...config.agents.codexDirs];
    // Default folders that do not exist are left out: say so rather than print an empty list.
    lines.push(
      dirs.length > 0
        ? `Following coding agents in ${dirs.join(', ')} (${app.agents.list().length} sessions)`
        : 'No Claude Code or Codex folder found (~/.claude, ~/.codex): pass --claude-dir or --codex-dir to follow one',
    );
  }
  if (app.sessions.list().length === 0) {
    lines.push(
      'No build sessions yet: point an orchestrator at a watched folder (it writes .context-foundry/current-phase.json) or POST to /api/phase-update, or run `livestream demo` in another terminal.',
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  await untilSignal(logger, () => app.stop());
}

/** Runs until SIGINT or SIGTERM, then stops once (a second signal while stopping is ignored). */
function untilSignal(logger: Logger, stop: () => Promise<void>): Promise<void> {
  return new Promise<void>((resolveStop) => {
    let stopping = false;
    const shutdown = (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'shutting down');
      stop().then(resolveStop, resolveStop);
    };
    process.once('SIGINT', () => shutdown('SIGINT'));
    process.once('SIGTERM', () => shutdown('SIGTERM'));
  });
}

/** `serve --bus`: one replica of several; see docs/scale-out.md. */
async function serveReplica(config: AppConfig, logger: Logger, busUrl: string): Promise<void> {
  if (!config.storeUrl) {
    throw new CliError(
      '--bus needs --store postgres://…: replicas share their history, so a replica taking over has it',
      EXIT.usage,
    );
  }
  // Loaded only with --bus: the embedded default never loads the Redis client.
  const { parseBusUrl, startReplica } = await import('../replica.ts');
  try {
    parseBusUrl(busUrl);
  } catch (error) {
    throw new CliError((error as Error).message, EXIT.usage);
  }
  let replica: Replica;
  try {
    replica = await startReplica({ config, logger, busUrl });
  } catch (error) {
    const err = error as NodeJS.ErrnoException;
    if (/ECONNREFUSED|redis/i.test(err.message)) {
      throw new CliError(
        `cannot reach the bus ${redact(busUrl)}: ${err.message}`,
        EXIT.unavailable,
      );
    }
    if (/PostgreSQL/.test(err.message)) {
      throw new CliError(`${err.message} (check --store)`, EXIT.unavailable);
    }
    return explainListenError(err, config);
  }
  const lines = [`Livestream listening on ${replica.url}`];
  if (replica.loginPath) lines.push(loginLine(replica.url, replica.loginPath));
  lines.push(
    `Replica (${replica.role}) on bus ${redact(busUrl)}; history in ${redact(config.storeUrl)}`,
  );
  process.stdout.write(`${lines.join('\n')}\n`);
  await untilSignal(logger, () => replica.stop());
}

export function register(program: Command): void {
  program
    .command('serve')
    .description('Watch the roots and serve the dashboard, API and WebSockets')
    .option('-r, --root <dir>', 'folder to watch, repeatable (default: current directory)', collect)
    .option('-p, --port <n>', `port (default ${DEFAULT_PORT}; env LIVESTREAM_PORT)`, parsePort)
    .option('--host <host>', `address to bind (default ${DEFAULT_HOST}; env LIVESTREAM_HOST)`)
    .option(
      '--db <path>',
      'SQLite history file (default ~/.livestream/livestream.db; env LIVESTREAM_DB)',
    )
    .option(
      '--store <url>',
      'keep history in PostgreSQL instead of SQLite: postgres://user@host/db (env LIVESTREAM_STORE)',
    )
    .option(
      '--bus <url>',
      'run as one of several replicas sharing live state through Redis: redis://host:6379 (needs --store; env LIVESTREAM_BUS)',
    )
    .option(
      '--retention-days <n>',
      'prune sessions older than this',
      parsePositiveInt('retention days'),
      DEFAULT_RETENTION_DAYS,
    )
    .option('--token <secret>', 'require this token on every request (env LIVESTREAM_TOKEN)')
    .option('--insecure', 'allow a non-loopback --host without a token')
    .option(
      '--allow-origin <origin>',
      'another origin allowed to use the API and WebSockets, repeatable',
      collect,
    )
    .option(
      '--poll <seconds>',
      'poll the roots instead of OS file events (network filesystems)',
      parsePositiveInt('poll interval'),
    )
    .option(
      '--token-budget <n>',
      'token budget per session',
      parsePositiveInt('token budget'),
      DEFAULT_TOKEN_BUDGET,
    )
    .option(
      '--max-connections <n>',
      'open connections held at most, HTTP and WebSocket (default: half the open-file limit, at most 1000)',
      parsePositiveInt('max connections'),
    )
    .option(
      '--max-connections-per-address <n>',
      'open connections one remote address may hold (default: a quarter of --max-connections)',
      parsePositiveInt('max connections per address'),
    )
    .option(
      '--idle-timeout <seconds>',
      'close a connection that sends no complete request within this time (default 10)',
      parsePositiveInt('idle timeout'),
    )
    .option(
      '--log-format <format>',
      'pretty or json (default: pretty on a terminal)',
      parseLogFormat,
    )
    .option(
      '--webhook <url>',
      'POST a JSON event for every alert (a Slack body for hooks.slack.com); repeatable',
      collect,
    )
    .option(
      '--attention-config <file>',
      'attention thresholds for every project (JSON: {"attention": {…}}); projects override them in .livestream.json',
    )
    .option(
      '--forwarder-tokens <file>',
      'accept `livestream forward` only with these per-machine tokens: "<host> <token>" lines, re-read on change (remove a line to revoke)',
    )
    .option('--desktop-notify', 'desktop notifications for alerts (notify-send, when installed)')
    .option(
      '--claude-dir <dir>',
      'Claude Code folder holding projects/, repeatable (default $CLAUDE_CONFIG_DIR, or ~/.claude and ~/.config/claude)',
      collect,
    )
    .option(
      '--codex-dir <dir>',
      'Codex folder holding sessions/, repeatable (default $CODEX_HOME or ~/.codex)',
      collect,
    )
    .option('--no-agents', 'do not follow Claude Code and Codex sessions')
    .option('--prices <file>', 'price file laid over the shipped model price table')
    .action((flags: ServeFlags) => serve(flags));
}
