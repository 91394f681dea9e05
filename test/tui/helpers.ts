import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const REPO = join(import.meta.dirname, '..', '..');

/** The real CLI, as a user runs it: the launcher over the compiled dist/cli.js. */
export function cliEntry(): string {
  return join(REPO, 'bin', 'livestream.mjs');
}

/** Node 24 (node:sqlite): this process's node when it is 24+, else the pinned `node` package. */
export function nodeBin(): string {
  if (Number(process.versions.node.split('.')[0]) >= 24) return process.execPath;
  return join(REPO, 'node_modules', 'node', 'bin', 'node');
}

export const hasTmux = spawnSync('tmux', ['-V']).status === 0;

/** `skip` for the terminal end-to-end tests where tmux is missing, with what to install. */
export const skipWithoutTmux = hasTmux
  ? false
  : 'tmux is not installed: the terminal end-to-end tests need it (apt-get install tmux)';

/** Writes `<root>/<project>/.context-foundry/current-phase.json` with the session id of the project. */
export function writePhase(root: string, project: string, fields: Record<string, unknown>): void {
  const folder = join(root, project, '.context-foundry');
  mkdirSync(folder, { recursive: true });
  writeFileSync(
    join(folder, 'current-phase.json'),
    JSON.stringify({ session_id: project, ...fields }),
  );
}

export function tmux(...args: string[]): string {
  return execFileSync('tmux', args, { encoding: 'utf8' });
}

export function capture(session: string): string {
  return tmux('capture-pane', '-p', '-t', session);
}

/** Polls the pane until `pred` holds (the screen is an event we can only observe by looking). */
export async function waitForScreen(
  session: string,
  pred: (screen: string) => boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<{ screen: string; elapsedMs: number }> {
  const started = Date.now();
  let screen = '';
  while (Date.now() - started < timeoutMs) {
    try {
      screen = capture(session);
    } catch {
      screen = '';
    }
    if (pred(screen)) return { screen, elapsedMs: Date.now() - started };
    await new Promise((resolve) => setTimeout(resolve, 40));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; screen:\n${screen}`);
}

/** Starts `livestream plans ARGS` in a detached tmux session (120x40 unless told); the shell prints EXIT=<code> after it. */
export function startDashboard(
  session: string,
  args: string[],
  size: { columns: number; rows: number } = { columns: 120, rows: 40 },
): void {
  const quoted = args.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
  tmux(
    'new-session',
    '-d',
    '-s',
    session,
    '-x',
    String(size.columns),
    '-y',
    String(size.rows),
    '-c',
    REPO,
    `${nodeBin()} ${cliEntry()} plans ${quoted}; echo EXIT=$?; sleep 120`,
  );
}

export function killSession(session: string): void {
  spawnSync('tmux', ['kill-session', '-t', session]);
}
