import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { NODE_FLAGS, runtimeEnv } from '../../bin/runtime.mjs';

const ROOT = join(import.meta.dirname, '..', '..');

/** A `livestream serve` child process, ready when it printed its URL. */
export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** Everything printed so far (stdout and stderr). */
  output: () => string;
  /** SIGTERM (or `signal`) and wait for the exit. */
  stop: (signal?: NodeJS.Signals) => Promise<number | null>;
}

/**
 * Runs the compiled CLI (`npm run build`) as a child process, the way
 * bin/livestream.mjs re-executes it for `serve`: same flags, same environment.
 * The launcher itself is tested in test/bin.integration.test.ts; here the
 * child is the server itself, so a SIGKILL is a real crash.
 */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawn(process.execPath, [...NODE_FLAGS, join(ROOT, 'dist', 'cli.js'), ...args], {
    cwd: ROOT,
    env: runtimeEnv({
      ...process.env,
      LIVESTREAM_LOG_LEVEL: 'warn',
      // Never the machine's own Claude Code or Codex history: a test names its folders.
      CLAUDE_CONFIG_DIR: join(ROOT, '.no-claude-config'),
      CODEX_HOME: join(ROOT, '.no-codex-home'),
      ...env,
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Starts `serve` and resolves once it listens; rejects with its output if it exits first. */
export async function startServer(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<ServerProcess> {
  const child = runCli(['serve', '--port', '0', ...args], env);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    const onData = () => {
      // Listening comes first; "Watching" once the roots are read, so the state on disk is in
      // (a replica on a bus says "Replica (…)" instead, once started).
      const match = /Livestream listening on (http:\/\/\S+)[\s\S]*\n(Watching |Replica \()/.exec(
        output,
      );
      if (match?.[1]) {
        child.stdout?.off('data', onData);
        resolve(match[1]);
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) =>
      reject(new Error(`serve exited with ${code} before listening:\n${output}`)),
    );
  });
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    child.kill(signal);
    const [code] = (await once(child, 'exit')) as [number | null];
    return code;
  };
  return { url, child, output: () => output, stop };
}

/** Polls `probe` until it returns a value, on each tick of a short timer, up to `timeoutMs`. */
export async function waitFor<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 5000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
