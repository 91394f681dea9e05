import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { findExecutable } from '../../notify/channels.ts';
import type { ActionRun, ActionsConfig, PlanActionName } from '../../shared/plan-actions.ts';

/** The config file looked for in the plans folder. */
export const CONFIG_NAME = '.livestream-plans.json';

/**
 * The scripts the plan folders' producer ships (`LLM/scripts/generation/`),
 * run from the project root with their real arguments:
 * `generate_prompt.py PLAN --next --interactive` (an interactive menu),
 * `generate_subplan_prompt.py create PLAN --achievement N.N`, and
 * `generate_execution_prompt.py create SUBPLAN --execution NN`. Full paths
 * are passed (the scripts' `@name` shorthand searches only the top of
 * work-space/plans, which misses plans in grouping folders). Placeholders:
 * `{plan}` plan id, `{planDir}` its folder, `{planFile}` its PLAN file,
 * `{achievement}` the target achievement ("1.2"), `{subplan}` the target's
 * newest SUBPLAN file, `{execution}` the next execution number ("02"). Each
 * placeholder fills one argument; commands run without a shell, so names
 * with spaces or `;` stay data. The interpreter is `python`, as that
 * repository's guides and script READMEs run them; where only `python3` is
 * installed (Debian, Ubuntu without python-is-python3) the defaults use it
 * (see `defaultInterpreter`).
 */
export const DEFAULT_COMMANDS: Record<PlanActionName, string[]> = {
  executeNext: [
    'python',
    'LLM/scripts/generation/generate_prompt.py',
    '{planFile}',
    '--next',
    '--interactive',
  ],
  createSubplan: [
    'python',
    'LLM/scripts/generation/generate_subplan_prompt.py',
    'create',
    '{planFile}',
    '--achievement',
    '{achievement}',
  ],
  createExecution: [
    'python',
    'LLM/scripts/generation/generate_execution_prompt.py',
    'create',
    '{subplan}',
    '--execution',
    '{execution}',
  ],
};

const command = z.union([z.string().min(1), z.array(z.string()).min(1)]);
const configSchema = z.object({
  cwd: z.string().optional(),
  timeoutSeconds: z
    .number()
    .positive()
    .max(24 * 3600)
    .optional(),
  actions: z
    .object({ executeNext: command, createSubplan: command, createExecution: command })
    .partial()
    .optional(),
  /** Per action: run it in the terminal (true) or capture its output in the dashboard (false). */
  terminal: z
    .object({ executeNext: z.boolean(), createSubplan: z.boolean(), createExecution: z.boolean() })
    .partial()
    .optional(),
});

/** The default `generate_prompt.py --interactive` asks questions: it gets the terminal. */
export const DEFAULT_TERMINAL: Record<PlanActionName, boolean> = {
  executeNext: true,
  createSubplan: false,
  createExecution: false,
};

/** Splits a command line into arguments: whitespace separates, single and double quotes group. */
export function splitCommand(line: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  for (const m of line.matchAll(re)) {
    out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : (m[2] ?? m[3] ?? ''));
  }
  return out;
}

const toArgv = (c: string | string[]) => (typeof c === 'string' ? splitCommand(c) : c);

/**
 * Loads the actions config: defaults, then the config file (`--config` or
 * `.livestream-plans.json` in the plans folder), then per-action flags.
 * Throws an Error with a readable message when the file is invalid.
 */
export function loadActionsConfig(opts: {
  plansDir: string;
  projectRoot: string;
  configPath?: string;
  overrides?: Partial<Record<PlanActionName, string>>;
  /** The PATH the interpreter is looked up on (default: this process's). */
  path?: string;
}): ActionsConfig {
  const path = opts.configPath ? resolve(opts.configPath) : join(opts.plansDir, CONFIG_NAME);
  let text: string | null = null;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (opts.configPath || (error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new Error(`cannot read the plans config ${path}: ${(error as Error).message}`);
    }
  }
  const python = defaultInterpreter(opts.path);
  const commands = Object.fromEntries(
    Object.entries(DEFAULT_COMMANDS).map(([name, argv]) => [
      name,
      argv[0] === 'python' ? [python, ...argv.slice(1)] : [...argv],
    ]),
  ) as Record<PlanActionName, string[]>;
  const terminal = { ...DEFAULT_TERMINAL };
  let cwd = opts.projectRoot;
  let timeoutMs = 180_000;
  if (text !== null) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new Error(`${path} is not valid JSON: ${(error as Error).message}`);
    }
    const parsed = configSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new Error(`${path}: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
    }
    for (const [name, c] of Object.entries(parsed.data.actions ?? {})) {
      if (c) commands[name as PlanActionName] = toArgv(c);
    }
    if (parsed.data.cwd)
      cwd = isAbsolute(parsed.data.cwd) ? parsed.data.cwd : join(opts.plansDir, parsed.data.cwd);
    if (parsed.data.timeoutSeconds) timeoutMs = parsed.data.timeoutSeconds * 1000;
    Object.assign(terminal, parsed.data.terminal ?? {});
  }
  for (const [name, c] of Object.entries(opts.overrides ?? {})) {
    if (c) commands[name as PlanActionName] = splitCommand(c);
  }
  return { commands, terminal, cwd, timeoutMs, source: text === null ? 'defaults' : path };
}

/**
 * The interpreter the default actions run: `python` as documented, else
 * `python3` when only that one is on PATH (the script README's `python` would
 * fail there with "not found"); `python` when neither is, so the error names
 * the documented command.
 */
export function defaultInterpreter(path = process.env.PATH ?? ''): string {
  if (findExecutable('python', path)) return 'python';
  return findExecutable('python3', path) ? 'python3' : 'python';
}

/** Fills `{name}` placeholders in each argument; unknown placeholders stay as written. */
export function fillCommand(argv: readonly string[], values: Record<string, string>): string[] {
  return argv.map((arg) => arg.replace(/\{(\w+)\}/g, (whole, key: string) => values[key] ?? whole));
}

const MAX_LINES = 200;

/**
 * Runs an action's command, streaming its output to `onUpdate` (a new
 * `ActionRun` object each time) and resolving with the final run. stdin is
 * closed: the dashboard owns the terminal.
 */
export function runAction(
  label: string,
  argv: string[],
  opts: {
    cwd: string;
    timeoutMs: number;
    onUpdate: (run: ActionRun) => void;
    /**
     * Give the command the terminal (stdin, stdout, stderr inherited): for
     * interactive scripts such as `generate_prompt.py --interactive`, which
     * die on a closed stdin. The caller steps its UI aside first.
     */
    terminal?: boolean;
  },
): Promise<ActionRun> {
  let run: ActionRun = { label, argv, lines: [], exitCode: null, error: null, running: true };
  const update = (patch: Partial<ActionRun>) => {
    run = { ...run, ...patch };
    opts.onUpdate(run);
  };
  return new Promise((done) => {
    const [cmd, ...args] = argv;
    if (!cmd) {
      update({ running: false, error: 'The command is empty; set it in .livestream-plans.json.' });
      done(run);
      return;
    }
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      stdio: opts.terminal ? 'inherit' : ['ignore', 'pipe', 'pipe'],
      // An interactive command waits for its user as long as it needs.
      ...(opts.terminal ? {} : { timeout: opts.timeoutMs }),
    });
    let partial = '';
    const onData = (chunk: Buffer) => {
      const text = partial + chunk.toString('utf8');
      const parts = text.split(/\r?\n/);
      partial = parts.pop() ?? '';
      if (parts.length > 0) update({ lines: [...run.lines, ...parts].slice(-MAX_LINES) });
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('error', (error: NodeJS.ErrnoException) => {
      update({
        running: false,
        error:
          error.code === 'ENOENT'
            ? `${cmd} was not found (cwd ${opts.cwd}); configure the command in .livestream-plans.json`
            : error.message,
      });
      done(run);
    });
    child.on('close', (code, signal) => {
      if (!run.running) return;
      const lines = partial ? [...run.lines, partial].slice(-MAX_LINES) : run.lines;
      update({
        running: false,
        lines,
        exitCode: code,
        error: signal ? `ended by ${signal}${signal === 'SIGTERM' ? ' (timed out?)' : ''}` : null,
      });
      done(run);
    });
  });
}
