import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEFAULT_PORT, defaultClaudeDirs, defaultCodexDirs } from '../config.ts';
import type { LogFormat } from '../logger.ts';
import { CliError, EXIT } from './errors.ts';

/** Parses `--log-format`: a typo is refused rather than ignored. */
export function parseLogFormat(value: string): LogFormat {
  if (value === 'pretty' || value === 'json') return value;
  throw new CliError(`invalid --log-format '${value}': use pretty or json`, EXIT.usage);
}

/** Parses a TCP port (0 picks a free one). */
export function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new CliError(`invalid port '${value}': use a number from 0 to 65535`, EXIT.usage);
  }
  return port;
}

export function parsePositiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) {
      throw new CliError(
        `invalid ${name} '${value}': use a whole number of at least 1`,
        EXIT.usage,
      );
    }
    return n;
  };
}

export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Resolves roots and refuses ones that are missing, not folders or unreadable. */
export function checkRoots(roots: string[]): string[] {
  return roots.map((root) => {
    const path = resolve(root);
    let isDir = false;
    try {
      isDir = statSync(path).isDirectory();
      accessSync(path, constants.R_OK | constants.X_OK);
    } catch {
      throw new CliError(
        `cannot read root '${path}': check that it exists and is readable`,
        EXIT.unavailable,
      );
    }
    if (!isDir) throw new CliError(`root '${path}' is not a folder`, EXIT.usage);
    return path;
  });
}

/** The server URL for client commands: flag, then env, then the default port on loopback. */
export function serverUrl(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (flag) {
    // Checked here: `hooks install --url` writes it into Claude Code's settings as given.
    let parsed: URL | null = null;
    try {
      parsed = new URL(flag);
    } catch {
      // reported below
    }
    if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
      throw new CliError(
        `invalid --url '${flag}': use the server's address, e.g. http://127.0.0.1:8080`,
        EXIT.usage,
      );
    }
    return flag.replace(/\/+$/, '');
  }
  const port = env.LIVESTREAM_PORT ?? String(DEFAULT_PORT);
  return `http://127.0.0.1:${port}`;
}

/** The flags `serve`, `status --root` and `forward` take to name the coding agents' folders. */
export interface AgentFolderFlags {
  claudeDir?: string[];
  codexDir?: string[];
  /** commander's negation of `--agents`: false with `--no-agents`. */
  agents?: boolean;
}

/**
 * The agent folders to follow: the flags' (watched even before they exist),
 * else the default folders that exist (no warning for a tool not installed);
 * null with `--no-agents`.
 */
export function agentFolders(
  flags: AgentFolderFlags,
  env: NodeJS.ProcessEnv = process.env,
): { claudeDirs: string[]; codexDirs: string[] } | null {
  if (flags.agents === false) return null;
  return {
    claudeDirs: flags.claudeDir?.length
      ? flags.claudeDir.map((d) => resolve(d))
      : defaultClaudeDirs(env).filter((d) => existsSync(d)),
    codexDirs: flags.codexDir?.length
      ? flags.codexDir.map((d) => resolve(d))
      : defaultCodexDirs(env).filter((d) => existsSync(d)),
  };
}
