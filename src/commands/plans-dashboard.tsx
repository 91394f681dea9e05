import { render } from 'ink';
import type { ActionsConfig } from '../shared/plan-actions.ts';
import { type LockOwner, PlansLock, releaseOnSignals } from '../sources/plans/lock.ts';
import { App, newViewMemory } from '../tui/App.tsx';
import { clock } from '../tui/views/format.ts';
import type { BuildsSource } from './plans-builds.ts';
import { type HostOptions, PlansController } from './plans-host.ts';

export interface DashboardOptions {
  plansDir: string;
  config: ActionsConfig;
  pollMs: number | null;
  /** Continue without asking when another instance holds the folder. */
  yes: boolean;
  builds: { url: string; source: BuildsSource } | null;
  /** Show the server's plans (`--connect` without a folder) instead of reading one here. */
  plansFromServer?: HostOptions['plansFromServer'];
  alerts?: HostOptions['alerts'];
  /** Tells the person at this machine about new alerts (desktop notifications). */
  onAlerts?: (controller: PlansController) => () => void;
  stdin?: NodeJS.ReadStream;
  stdout?: NodeJS.WriteStream;
}

/** Words for the second-instance warning. */
export function describeOwner(owner: LockOwner | null): string {
  if (!owner) return 'Another livestream plans instance is starting on this folder.';
  return `Another livestream plans instance is running on this folder (pid ${owner.pid}${
    owner.host ? ` on ${owner.host}` : ''
  }, since ${clock(owner.createdAt)}).`;
}

/**
 * Asks a yes/no question on the terminal, reading one line the way Ink reads
 * input later (`readable` + `read()`), so no listener is left behind that
 * would swallow the dashboard's keys (readline's would).
 */
function ask(
  question: string,
  stdin: NodeJS.ReadStream,
  out: NodeJS.WriteStream,
): Promise<boolean> {
  out.write(question);
  return new Promise((resolve) => {
    let line = '';
    const finish = (answer: boolean) => {
      stdin.removeListener('readable', onReadable);
      stdin.removeListener('end', onEnd);
      stdin.pause();
      resolve(answer);
    };
    const onEnd = () => finish(false);
    const onReadable = () => {
      let chunk: Buffer | string | null = stdin.read();
      while (chunk !== null) {
        line += chunk.toString();
        const nl = line.search(/[\r\n]/);
        if (nl >= 0) {
          finish(/^y(es)?$/i.test(line.slice(0, nl).trim()));
          return;
        }
        chunk = stdin.read();
      }
    };
    stdin.on('readable', onReadable);
    stdin.once('end', onEnd);
  });
}

/**
 * The folder's lock; null when another instance holds it and the user (or
 * `--yes`) chose to run anyway, or when it cannot be taken (a notice says
 * which); 'quit' when the user declined.
 */
async function takeLock(
  opts: DashboardOptions,
  stdin: NodeJS.ReadStream,
  notices: string[],
): Promise<PlansLock | null | 'quit'> {
  try {
    const result = await PlansLock.acquire(opts.plansDir);
    if (result.acquired) return result.lock;
    const warning = describeOwner(result.owner);
    if (!opts.yes) {
      if (!stdin.isTTY) {
        process.stderr.write(
          `${warning}\nNot continuing: pass --yes to run a second instance anyway.\n`,
        );
        return 'quit';
      }
      const go = await ask(`${warning}\nContinue anyway? [y/N] `, stdin, process.stderr);
      if (!go) return 'quit';
    }
    notices.push(
      `Second instance: pid ${result.owner?.pid ?? '?'} holds this folder's lock; it is left alone.`,
    );
  } catch (error) {
    notices.push(
      `Cannot lock ${opts.plansDir} (${(error as Error).message}); running without a lock.`,
    );
  }
  return null;
}

/**
 * Runs the interactive dashboard until the user quits: takes the folder's
 * lock (or, when another instance holds it, asks whether to run anyway —
 * default no; `--yes` says yes, a non-terminal stdin says no without
 * waiting), renders the Ink app and releases everything on the way out.
 * Returns the exit code.
 */
export async function runDashboard(opts: DashboardOptions): Promise<number> {
  const stdin = opts.stdin ?? process.stdin;
  const stdout = opts.stdout ?? process.stdout;
  const notices: string[] = [];
  // The server's plans are read there: no folder here to guard.
  const lock = opts.plansFromServer ? null : await takeLock(opts, stdin, notices);
  if (lock === 'quit') return 3;

  let handing: ((value: 'handover') => void) | null = null;
  let handoverDone: Promise<void> = Promise.resolve();
  let aside: () => void = () => undefined;
  const controller = new PlansController({
    plansDir: opts.plansDir,
    config: opts.config,
    pollMs: opts.pollMs,
    builds: opts.builds,
    plansFromServer: opts.plansFromServer ?? false,
    alerts: opts.alerts ?? null,
    notices,
    // As git does for an editor: the dashboard leaves the screen, the command
    // owns the terminal, and the dashboard is drawn again when it ends.
    handover: async (fn) => {
      let finish: () => void = () => undefined;
      handoverDone = new Promise((done) => {
        finish = done;
      });
      // The command starts only once the dashboard has left the screen and
      // the terminal is back in cooked mode: its first prompt is not wiped.
      const stepped = new Promise<void>((done) => {
        aside = done;
      });
      handing?.('handover');
      if (handing) await stepped;
      try {
        const result = await fn();
        const code = (result as { exitCode?: number | null }).exitCode;
        if (code !== 0 && code !== undefined) {
          process.stderr.write(`\n[livestream] the command exited with code ${code}.\n`);
        }
        return result;
      } finally {
        finish();
      }
    },
  });
  let unmount: (() => void) | null = null;
  let offAlerts: (() => void) | null = null;
  const offSignals = lock ? releaseOnSignals(lock, () => unmount?.()) : () => undefined;
  try {
    let started = false;
    const memory = newViewMemory();
    for (;;) {
      const app = render(<App controller={controller} memory={memory} />, {
        stdin,
        stdout,
        alternateScreen: true,
        incrementalRendering: true,
        // Ink turns itself non-interactive when CI is set, even on a terminal; a
        // person (or a CI job driving tmux) at a TTY gets the live dashboard.
        interactive: Boolean(stdout.isTTY),
        exitOnCtrlC: true,
        patchConsole: false,
      });
      unmount = app.unmount;
      if (!started) {
        started = true;
        // The first frame ("Reading …") is already on screen; the plans fill it in.
        void controller.start();
        offAlerts = opts.onAlerts?.(controller) ?? null;
      }
      const why = await Promise.race([
        app.waitUntilExit().then(() => 'exit' as const),
        new Promise<'handover'>((resolve) => {
          handing = resolve;
        }),
      ]);
      handing = null;
      if (why === 'exit') return 0;
      app.unmount();
      await app.waitUntilExit().catch(() => undefined);
      if (stdin.isTTY) stdin.setRawMode(false);
      // Stop reading the terminal: a read pending in this process would take
      // the line the user types for the command.
      stdin.pause();
      aside();
      await handoverDone;
      await controller.refresh();
    }
  } finally {
    offSignals();
    offAlerts?.();
    await controller.close();
    lock?.releaseSync();
  }
}
