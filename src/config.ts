import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { AgentSourcesConfig } from './sources/agents/index.ts';

/** Everything `serve` (and `tui --connect`-less modes) needs to run. */
export interface AppConfig {
  roots: string[];
  port: number;
  host: string;
  dbPath: string;
  /** `postgres://…`: history in PostgreSQL instead of the SQLite file at `dbPath`. */
  storeUrl?: string | null;
  retentionDays: number;
  token: string | null;
  allowedOrigins: string[];
  /** `serve --insecure`: a non-loopback bind without a token, so LAN Host names are accepted. */
  insecure?: boolean;
  /** Poll the roots every N ms instead of using OS events (network filesystems). */
  pollMs: number | null;
  tokenBudget: number;
  webDir: string;
  /** Server-wide attention thresholds (`serve --attention-config`); projects override them. */
  attentionConfigPath?: string | null;
  /** Outgoing webhooks for alerts (`serve --webhook`, repeatable). Hold secrets: never log them. */
  webhooks?: string[];
  /** Desktop notifications through notify-send on the server's machine (`serve --desktop-notify`). */
  desktopNotify?: boolean;
  /** `serve --max-connections`, `--max-connections-per-address`, `--idle-timeout`: defaults when absent. */
  connections?: { maxTotal?: number; maxPerAddress?: number; idleMs?: number };
  /** `serve --forwarder-tokens`: `<host> <token>` lines, one per forwarding machine. */
  forwarderTokensPath?: string | null;
  /**
   * Set by `serve --bus` (not a flag): the deployment's replica key, which
   * the writer trusts on requests its followers pass on (see `REPLICA_HEADER`).
   */
  replicaKey?: string | null;
  /** Claude Code and Codex transcripts to follow; absent or null: none. */
  agents?: AgentSourcesConfig | null;
}

export const DEFAULT_PORT = 8080;
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_RETENTION_DAYS = 30;
export const DEFAULT_TOKEN_BUDGET = 200_000;

export function defaultDbPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.LIVESTREAM_DB ?? join(homedir(), '.livestream', 'livestream.db');
}

/** The built dashboard, relative to this source tree. */
export function defaultWebDir(): string {
  return resolve(import.meta.dirname, '..', 'dist', 'web');
}

/**
 * Claude Code's configuration folders: `$CLAUDE_CONFIG_DIR` (comma-separated)
 * when set, else `~/.claude` and `~/.config/claude`.
 */
export function defaultClaudeDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  const configured = env.CLAUDE_CONFIG_DIR?.split(',')
    .map((d) => d.trim())
    .filter((d) => d !== '');
  if (configured && configured.length > 0) return configured.map((d) => resolve(d));
  return [join(homedir(), '.claude'), join(homedir(), '.config', 'claude')];
}

/** Codex's home: `$CODEX_HOME`, else `~/.codex`. */
export function defaultCodexDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  return [resolve(env.CODEX_HOME ?? join(homedir(), '.codex'))];
}
