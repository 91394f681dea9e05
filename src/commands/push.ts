import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { CliError, EXIT } from './errors.ts';
import { parsePositiveInt, serverUrl } from './options.ts';

interface PushFlags {
  url?: string;
  timeout: number;
  strict?: boolean;
  token?: string;
}

const DEFAULT_FILE = '.context-foundry/current-phase.json';

/**
 * Sends a phase file to a server: the orchestrator's curl, but it fails open —
 * a build must never be blocked by its monitor, so problems exit 0 unless
 * --strict.
 */
async function push(file: string | undefined, flags: PushFlags): Promise<void> {
  const path = file ?? DEFAULT_FILE;
  const url = `${serverUrl(flags.url)}/api/phase-update`;
  const fail = (message: string, code: number) => {
    if (flags.strict) throw new CliError(message, code);
    process.stderr.write(`livestream push: ${message} (ignored; --strict to fail)\n`);
  };
  let body: string;
  try {
    body = await readFile(path, 'utf8');
  } catch {
    return fail(`cannot read ${path}`, EXIT.usage);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch (error) {
    // Said here, not by the server: its answer names neither the file nor what to fix.
    return fail(`${path} is not valid JSON (${(error as Error).message})`, EXIT.usage);
  }
  body = withSessionId(doc, body, path);
  const token = flags.token ?? process.env.LIVESTREAM_TOKEN;
  let response: Response;
  let text: string;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body,
      signal: AbortSignal.timeout(flags.timeout),
    });
    text = await response.text();
  } catch (error) {
    const reason =
      (error as Error).name === 'TimeoutError'
        ? `no answer within ${flags.timeout} ms`
        : 'not reachable';
    return fail(`server at ${url} ${reason}`, EXIT.unavailable);
  }
  if (!response.ok) {
    let message = text;
    try {
      message = (JSON.parse(text) as { message?: string }).message ?? text;
    } catch {
      // not JSON: show the text as it is
    }
    if (response.status === 401) {
      return fail(
        'refused: the server needs a token: pass --token <secret> or set LIVESTREAM_TOKEN (HTTP 401)',
        EXIT.failure,
      );
    }
    return fail(`refused: ${message} (HTTP ${response.status})`, EXIT.failure);
  }
  let answer: { session_id?: string; changed?: boolean } = {};
  try {
    answer = JSON.parse(text) as typeof answer;
  } catch {
    // an answer that is not JSON still means delivered
  }
  process.stdout.write(
    `pushed ${path} → session ${answer.session_id ?? '?'}${answer.changed === false ? ' (unchanged)' : ''}\n`,
  );
}

/**
 * The template writes `session_id` only in a phase group's first document;
 * the file's project folder (the parent of `.context-foundry/`) names the
 * session for the others, as the file watcher does.
 */
function withSessionId(doc: unknown, body: string, path: string): string {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return body;
  const record = doc as Record<string, unknown>;
  if (typeof record.session_id === 'string' && record.session_id.trim() !== '') return body;
  const folder = dirname(resolve(path));
  if (basename(folder) !== '.context-foundry') return body;
  return JSON.stringify({ ...record, session_id: basename(dirname(folder)) });
}

export function register(program: Command): void {
  program
    .command('push [file]')
    .description(`Send a phase file (default ${DEFAULT_FILE}) to a running server`)
    .option('--url <url>', 'server URL (default http://127.0.0.1:$LIVESTREAM_PORT or 8080)')
    .option(
      '--timeout <ms>',
      'give up after this many milliseconds',
      parsePositiveInt('timeout'),
      2000,
    )
    .option('--token <secret>', 'token of a server started with --token (env LIVESTREAM_TOKEN)')
    .option('--strict', 'exit non-zero when the update could not be delivered')
    .action((file: string | undefined, flags: PushFlags) => push(file, flags));
}
