import { statSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { type DemoPhaseEvent, runDemo } from '../demo/run.ts';
import { DEMO_SCENARIOS, type DemoScenario } from '../demo/scenarios.ts';
import { CliError, EXIT } from './errors.ts';

interface DemoFlags {
  root: string;
  sessions: number;
  rate?: number;
  speed: number;
  once?: boolean;
  scenario: DemoScenario;
}

function parseScenario(value: string): DemoScenario {
  if (!(DEMO_SCENARIOS as readonly string[]).includes(value)) {
    throw new CliError(
      `invalid --scenario '${value}': use one of ${DEMO_SCENARIOS.join(', ')}`,
      EXIT.usage,
    );
  }
  return value as DemoScenario;
}

const MAX_SESSIONS = 10_000;

function parseSessions(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > MAX_SESSIONS) {
    throw new CliError(
      `invalid --sessions '${value}': use a whole number from 1 to ${MAX_SESSIONS}`,
      EXIT.usage,
    );
  }
  return n;
}

function parsePositive(flag: string, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0 || n > max) {
      throw new CliError(
        `invalid ${flag} '${value}': use a number above 0 and at most ${max}`,
        EXIT.usage,
      );
    }
    return n;
  };
}

function checkRoot(root: string): string {
  const path = resolve(root);
  let isDir = false;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    throw new CliError(
      `demo root '${path}' does not exist: create it or pass another --root`,
      EXIT.unavailable,
    );
  }
  if (!isDir) throw new CliError(`demo root '${path}' is not a folder`, EXIT.usage);
  return path;
}

function phaseLine(root: string, e: DemoPhaseEvent): string {
  const where = relative(root, e.dir) || e.dir;
  return `${e.sessionId.padEnd(24)} ${e.phase} (${e.phaseNumber}) ${e.status} — ${e.detail}  [${where}]\n`;
}

/** `livestream demo`: writes simulated builds for a newcomer to watch, or as a load generator. */
export function register(program: Command): void {
  program
    .command('demo')
    .description(
      'Write simulated builds into <root>/livestream-demo/ so a running server shows them live',
    )
    .option('--root <dir>', 'folder to write the demo projects into (a watched root)', '.')
    .option('--sessions <n>', 'builds running at once', parseSessions, 1)
    .option(
      '--rate <r>',
      'updates per second over all builds (load generator)',
      parsePositive('--rate', 100_000),
    )
    .option('--speed <x>', 'time multiplier (2 = twice as fast)', parsePositive('--speed', 1000), 1)
    .option('--once', 'stop when the builds have completed instead of starting new ones')
    .option(
      '--scenario <name>',
      `what the builds do: ${DEMO_SCENARIOS.join(', ')} (stuck, test-loop and runaway never complete)`,
      parseScenario,
      'normal',
    )
    .action(async (flags: DemoFlags) => {
      const root = checkRoot(flags.root);
      const controller = new AbortController();
      const stop = () => controller.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      const started = performance.now();
      process.stdout.write(
        `demo: writing ${flags.sessions} simulated build${flags.sessions === 1 ? '' : 's'} into ${resolve(root, 'livestream-demo')}` +
          `${flags.once ? '' : ' (Ctrl-C to stop)'}\n`,
      );
      try {
        const summary = await runDemo(
          {
            root,
            sessions: flags.sessions,
            speed: flags.speed,
            once: flags.once === true,
            scenario: flags.scenario,
            ...(flags.rate === undefined ? {} : { rate: flags.rate }),
            onPhase: (e) => process.stdout.write(phaseLine(root, e)),
          },
          controller.signal,
        );
        const seconds = (performance.now() - started) / 1000;
        // A scenario's build never completes: its producer stops writing at the end of the script.
        const ended =
          flags.scenario === 'normal' ? 'completed' : `played the '${flags.scenario}' scenario out`;
        process.stdout.write(
          `demo: ${summary.updates} updates, ${summary.completed} of ${summary.sessions} builds ${ended} in ${seconds.toFixed(1)} s\n`,
        );
      } catch (error) {
        throw new CliError(`demo stopped: ${(error as Error).message}`, EXIT.failure);
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
    });
}
