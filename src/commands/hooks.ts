import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { defaultClaudeDirs } from '../config.ts';
import {
  installHooks,
  lineDiff,
  livestreamHook,
  SettingsShapeError,
  uninstallHooks,
} from '../core/agents/hook-settings.ts';
import { CliError, EXIT } from './errors.ts';
import { serverUrl } from './options.ts';

interface HookFlags {
  user?: boolean;
  project?: string;
  local?: boolean;
  url?: string;
  token?: string;
  tokenEnv: string;
  dryRun?: boolean;
}

/** The settings file a scope writes: user `~/.claude/settings.json`, project `.claude/settings(.local).json`. */
export function settingsPath(flags: HookFlags, env = process.env): string {
  if (flags.user && (flags.project || flags.local)) {
    throw new CliError(
      `--user has one settings file: drop ${flags.project ? '--project' : '--local'}, or drop --user for the project's`,
      EXIT.usage,
    );
  }
  if (flags.user) return join(defaultClaudeDirs(env)[0] as string, 'settings.json');
  const project = resolve(flags.project ?? process.cwd());
  // `.claude/` is created when missing, the project itself never: a typo must not make a folder.
  if (!existsSync(project)) {
    throw new CliError(`project folder '${project}' does not exist: check --project`, EXIT.usage);
  }
  return join(project, '.claude', flags.local ? 'settings.local.json' : 'settings.json');
}

async function readSettings(path: string): Promise<{ text: string; value: unknown }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { text: '', value: {} };
    throw new CliError(`cannot read ${path}: ${(error as Error).message}`, EXIT.unavailable);
  }
  if (text.trim() === '') return { text, value: {} };
  try {
    return { text, value: JSON.parse(text) };
  } catch (error) {
    // Never overwrite a file we cannot read back: the user's other settings are in it.
    throw new CliError(
      `${path} is not valid JSON (${(error as Error).message}); fix it first, nothing was changed`,
      EXIT.usage,
    );
  }
}

async function change(
  flags: HookFlags,
  edit: (settings: unknown) => unknown,
  unchanged: string,
): Promise<void> {
  const path = settingsPath(flags);
  const { text, value } = await readSettings(path);
  let next: unknown;
  try {
    next = edit(value);
  } catch (error) {
    if (error instanceof SettingsShapeError) {
      throw new CliError(`${path}: ${error.message}; nothing was changed`, EXIT.usage);
    }
    throw error;
  }
  const after = `${JSON.stringify(next, null, 2)}\n`;
  const before = text === '' ? '' : `${JSON.stringify(value, null, 2)}\n`;
  if (after === before || (text === '' && after === '{}\n')) {
    process.stdout.write(`${path}: ${unchanged}\n`);
    return;
  }
  if (flags.dryRun) {
    process.stdout.write(
      `--- ${path}\n+++ ${path} (after)\n${lineDiff(before.trimEnd(), after.trimEnd())}\n`,
    );
    return;
  }
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.livestream-${process.pid}.tmp`;
  await writeFile(tmp, after);
  await rename(tmp, path);
  process.stdout.write(`${path}: updated\n`);
}

export function register(program: Command): void {
  const hooks = program
    .command('hooks')
    .description('Send Claude Code hook events to Livestream (install / uninstall)');
  const scope = (cmd: Command) =>
    cmd
      .option('--user', 'the user settings (~/.claude/settings.json, or $CLAUDE_CONFIG_DIR)')
      .option('--project <dir>', 'the project settings in <dir>/.claude/ (default: current folder)')
      .option(
        '--local',
        'with --project: settings.local.json (not committed) instead of settings.json',
      )
      .option('--dry-run', 'print the change instead of writing it');
  scope(hooks.command('install'))
    .description('Add an http hook to POST every hook event to a Livestream server')
    .option('--url <url>', 'server URL (default http://127.0.0.1:$LIVESTREAM_PORT or 8080)')
    .option('--token <secret>', 'the server has a token: send it (env LIVESTREAM_TOKEN)')
    .option(
      '--token-env <name>',
      'environment variable Claude Code reads the token from',
      'LIVESTREAM_TOKEN',
    )
    .action((flags: HookFlags) => {
      const url = `${serverUrl(flags.url).replace(/\/+$/, '')}/api/hooks`;
      const token = flags.token ?? process.env.LIVESTREAM_TOKEN;
      if (!/^[A-Z_][A-Z0-9_]*$/i.test(flags.tokenEnv)) {
        throw new CliError(
          `invalid --token-env '${flags.tokenEnv}': use a variable name`,
          EXIT.usage,
        );
      }
      return change(
        flags,
        (s) => installHooks(s, livestreamHook(url, token ? flags.tokenEnv : null)),
        'already up to date',
      );
    });
  scope(hooks.command('uninstall'))
    .description('Remove the hooks `hooks install` added, and nothing else')
    .action((flags: HookFlags) =>
      change(flags, uninstallHooks, 'no Livestream hooks in it, nothing to remove'),
    );
}
