import { resolve } from 'node:path';
import type { Command } from 'commander';
import {
  type AppConfig,
  DEFAULT_RETENTION_DAYS,
  DEFAULT_TOKEN_BUDGET,
  defaultWebDir,
} from '../config.ts';
import { createLogger } from '../logger.ts';
import { type AgentSummary, totalTokens } from '../shared/agents.ts';
import { type Alert, alertLabel, attentionQueue } from '../shared/attention.ts';
import type { SessionStatus } from '../shared/model.ts';
import { CliError, EXIT } from './errors.ts';
import { checkRoots, collect, agentFolders as foldersOf, serverUrl } from './options.ts';

interface StatusFlags {
  url?: string;
  root?: string[];
  json?: boolean;
  token?: string;
  claudeDir?: string[];
  codexDir?: string[];
  /** commander's negation of `--agents`: false with `--no-agents`. */
  agents?: boolean;
  prices?: string;
}

/** "12s", "5m", "3h", "2d": how long ago, for a terminal column. */
export function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

/**
 * A plain-text table of sessions; no colours so it pipes cleanly. The MACHINE
 * column shows only when the sessions come from more than one machine, as in
 * the TUI: on one laptop it would repeat the same name on every row.
 */
export function formatTable(sessions: SessionStatus[], now: number): string {
  const machines = new Set(sessions.map((s) => s.host ?? '-')).size > 1;
  const rows = sessions.map((s) => [
    s.id,
    s.host ?? '-',
    s.state,
    s.currentPhase,
    s.phaseNumber.raw ?? '?',
    s.progressPercent === null ? '-' : `${Math.round(s.progressPercent)}%`,
    s.testIteration === null ? '-' : String(s.testIteration),
    s.source,
    `${ago(now - s.changedAt)} ago`,
  ]);
  const header = [
    'SESSION',
    'MACHINE',
    'STATE',
    'PHASE',
    '#',
    'PROGRESS',
    'ITER',
    'SOURCE',
    'UPDATED',
  ];
  if (!machines) {
    header.splice(1, 1);
    for (const row of rows) row.splice(1, 1);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** The queue as text: "weather-app  Failed  5m  Failed in Test (failed)". */
export function formatQueue(queue: readonly Alert[], now: number): string {
  const rows = queue.map((a) => [
    a.sessionId,
    alertLabel(a.kind),
    `${ago(now - a.since)}`,
    a.reason,
  ]);
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r) => r.map((c, i) => (i < 3 ? c.padEnd(widths[i] ?? 0) : c)).join('  '))
    .join('\n');
}

/** "1.2M", "45k", "900": token counts for a terminal column. */
export function compact(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${Math.round(n / 1e3)}k`;
  return String(n);
}

/** The costliest phases of a session, for a table cell: `Builder $1.20, Test $0.30`. */
function topPhases(a: AgentSummary): string {
  const phases = [...(a.phases ?? [])].sort((x, y) => y.costUsd - x.costUsd).slice(0, 3);
  return phases.length === 0
    ? '-'
    : phases.map((p) => `${p.phase} $${p.costUsd.toFixed(2)}`).join(', ');
}

/** A plain-text table of coding-agent sessions, tokens beside cost. */
export function formatAgentTable(agents: AgentSummary[], now: number): string {
  const rows = agents.map((a) => [
    a.id.slice(0, 8),
    a.kind,
    a.project || '-',
    a.state === 'waiting' && a.waitingFor ? `waiting (${a.waitingFor.reason})` : a.state,
    a.model ?? '-',
    compact(totalTokens(a.usage)),
    `$${a.costUsd.toFixed(2)}${a.unpricedResponses > 0 ? '+' : ''}`,
    String(a.toolCalls),
    String(a.subagents),
    `${ago(now - a.lastAt)} ago`,
    topPhases(a),
  ]);
  const header = [
    'AGENT',
    'KIND',
    'PROJECT',
    'STATE',
    'MODEL',
    'TOKENS',
    'COST',
    'TOOLS',
    'SUB',
    'UPDATED',
    'COST BY PHASE',
  ];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

async function agentsFromServer(url: string, token: string | undefined): Promise<AgentSummary[]> {
  try {
    const response = await fetch(`${url}/api/agents`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
      signal: AbortSignal.timeout(2000),
    });
    // An older server, or one started with --no-agents, has no agents to show.
    if (!response.ok) return [];
    return ((await response.json()) as { agents: AgentSummary[] }).agents;
  } catch {
    return [];
  }
}

/** Sessions, coding agents and the attention queue of a server. */
interface Snapshot {
  sessions: SessionStatus[];
  agents: AgentSummary[];
  attention: Alert[];
}

async function fromServer(url: string, token: string | undefined): Promise<Snapshot | null> {
  try {
    const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
    const response = await fetch(`${url}/api/sessions`, {
      headers,
      signal: AbortSignal.timeout(2000),
    });
    if (response.status === 401) {
      throw new CliError(`the server at ${url} needs a token: pass --token`, EXIT.usage);
    }
    if (!response.ok)
      throw new CliError(`the server at ${url} answered ${response.status}`, EXIT.failure);
    const { sessions } = (await response.json()) as { sessions: SessionStatus[] };
    // An older server has no attention API: sessions alone are still an answer.
    const attention = await fetch(`${url}/api/attention`, {
      headers,
      signal: AbortSignal.timeout(2000),
    })
      .then(async (r) => (r.ok ? ((await r.json()) as { queue: Alert[] }).queue : []))
      .catch(() => []);
    const agents = await agentsFromServer(url, token);
    return { sessions, agents, attention };
  } catch (error) {
    if (error instanceof CliError) throw error;
    return null;
  }
}

/**
 * The agent transcripts `status --root` reads, as `serve` would follow them:
 * the default folders that exist, or the flags'; none with `--no-agents`.
 * Nothing is checkpointed: every call reads them afresh.
 */
function agentFolders(flags: StatusFlags): AppConfig['agents'] {
  const folders = foldersOf(flags);
  if (!folders) return null;
  return {
    ...folders,
    pricesFile: flags.prices ? resolve(flags.prices) : null,
    checkpointPath: null,
  };
}

async function fromRoots(roots: string[], flags: StatusFlags): Promise<Snapshot> {
  // Loaded here, not at the top: the other commands' start-up should not pay for it.
  const { createApp } = await import('../app.ts');
  const agents = agentFolders(flags);
  const app = await createApp({
    config: {
      roots: checkRoots(roots),
      port: 0,
      host: '127.0.0.1',
      dbPath: ':memory:',
      retentionDays: DEFAULT_RETENTION_DAYS,
      token: null,
      allowedOrigins: [],
      pollMs: null,
      tokenBudget: DEFAULT_TOKEN_BUDGET,
      webDir: defaultWebDir(),
      agents,
    },
    logger: createLogger({ level: 'error' }),
    listen: false,
  });
  try {
    await app.attention.idle();
    return {
      sessions: app.sessions.list(),
      agents: agents ? app.agents.list() : [],
      attention: attentionQueue(app.attention.open(), Date.now()),
    };
  } finally {
    await app.stop();
  }
}

async function status(flags: StatusFlags): Promise<void> {
  const token = flags.token ?? process.env.LIVESTREAM_TOKEN;
  let snapshot: Snapshot | null = null;
  let origin: string;
  if (flags.root && flags.root.length > 0) {
    snapshot = await fromRoots(flags.root, flags);
    origin = flags.root.join(', ');
  } else {
    const url = serverUrl(flags.url);
    snapshot = await fromServer(url, token);
    origin = url;
    if (snapshot === null) {
      if (flags.url)
        throw new CliError(
          `no server answered at ${url}: start one with 'livestream serve'`,
          EXIT.unavailable,
        );
      snapshot = await fromRoots([process.cwd()], flags);
      origin = `${process.cwd()} (no server at ${url})`;
      // The table alone does not say where it came from: a server on another port is a common miss.
      if (!flags.json && snapshot.sessions.length > 0) {
        process.stderr.write(
          `livestream: no server at ${url}; sessions read from ${process.cwd()}\n`,
        );
      }
    }
  }
  const { sessions, agents, attention } = snapshot;
  if (flags.json) {
    process.stdout.write(
      `${JSON.stringify({ source: origin, sessions, count: sessions.length, agents, agentCostUsd: Math.round(agents.reduce((sum, a) => sum + a.costUsd, 0) * 1e6) / 1e6, attention }, null, 2)}\n`,
    );
    return;
  }
  const now = Date.now();
  if (attention.length > 0) {
    process.stdout.write(`NEEDS ATTENTION\n${formatQueue(attention, now)}\n\n`);
  }
  if (agents.length > 0) {
    const parts = [formatAgentTable(agents, now)];
    if (sessions.length > 0) parts.unshift(formatTable(sessions, now), '');
    process.stdout.write(`${parts.join('\n')}\n`);
    return;
  }
  if (sessions.length === 0) {
    process.stdout.write(
      `No build sessions in ${origin}.\nPoint an orchestrator at a folder (it writes .context-foundry/current-phase.json), or run 'livestream demo' to see one.\n`,
    );
    return;
  }
  process.stdout.write(`${formatTable(sessions, now)}\n`);
}

export function register(program: Command): void {
  program
    .command('status')
    .description('Print the sessions of a running server, or straight from folders')
    .option('--url <url>', 'server URL (default http://127.0.0.1:$LIVESTREAM_PORT or 8080)')
    .option('-r, --root <dir>', 'read these folders instead of a server, repeatable', collect)
    .option('--token <secret>', 'token of a server started with --token (env LIVESTREAM_TOKEN)')
    .option('--json', 'machine-readable output')
    .option(
      '--claude-dir <dir>',
      'with --root: Claude Code folder holding projects/, repeatable (default as serve)',
      collect,
    )
    .option('--codex-dir <dir>', 'with --root: Codex folder holding sessions/, repeatable', collect)
    .option('--no-agents', 'with --root: leave out Claude Code and Codex sessions')
    .option('--prices <file>', 'with --root: price file laid over the shipped price table')
    .action((flags: StatusFlags) => status(flags));
}
