import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { percentile, printTable } from './stats.ts';

/**
 * Start-up of the installed CLI against a bare `node -e 0`, in one run:
 * `--help` (target: within 150 ms of node), `status --json` (250 ms) and the
 * plans TUI's first frame in a pty (`script`), timed until the plan's name is
 * on screen (under 400 ms). Runs bin/livestream.mjs over dist/ (`npm run build`).
 *
 * `--baseline DIR` also times `--help` and `status --json` of another built
 * checkout (DIR/bin/livestream.mjs, e.g. main before a change), interleaved in
 * the same run, so a before/after comparison shares the machine's load.
 */
const BIN = join(import.meta.dirname, '..', 'bin', 'livestream.mjs');
const RUNS = process.argv.includes('--quick') ? 3 : 10;
const baselineAt = process.argv.indexOf('--baseline');
const BASELINE =
  baselineAt > 0 && process.argv[baselineAt + 1]
    ? join(process.argv[baselineAt + 1] as string, 'bin', 'livestream.mjs')
    : null;

function timeSync(args: string[], cwd: string): number {
  const start = performance.now();
  const r = spawnSync(process.execPath, args, { cwd, stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}`);
  return performance.now() - start;
}

function firstFrame(dir: string, needle: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const cmd = `${process.execPath} ${BIN} plans ${dir}`;
    const child = spawn('script', ['-qfc', cmd, '/dev/null'], {
      cwd: dir,
      stdio: ['pipe', 'pipe', 'ignore'],
      env: { ...process.env, COLUMNS: '120', LINES: '40', TERM: 'xterm-256color' },
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes(needle)) {
        const ms = performance.now() - start;
        child.kill('SIGKILL');
        spawnSync('pkill', ['-KILL', '-P', String(child.pid)]);
        resolve(ms);
      }
    });
    child.once('exit', () => {
      if (!out.includes(needle)) reject(new Error(`plans TUI exited before '${needle}':\n${out}`));
    });
  });
}

function median(values: number[]): number {
  return Math.round(percentile(values, 50));
}

function ratio(a: number, b: number): number {
  return Math.round((a / b) * 100) / 100;
}

export async function run(): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'ls-startup-'));
  try {
    const plan = join(dir, 'plans', 'STARTUP-BENCH');
    mkdirSync(plan, { recursive: true });
    writeFileSync(
      join(plan, 'PLAN_STARTUP-BENCH.md'),
      '# PLAN: Startup Bench\n\n## Goal\n\nTime it.\n',
    );
    const node: number[] = [];
    const help: number[] = [];
    const status: number[] = [];
    const tui: number[] = [];
    const baseHelp: number[] = [];
    const baseStatus: number[] = [];
    // Interleaved so load on the machine hits every figure alike.
    for (let i = 0; i < RUNS; i++) {
      node.push(timeSync(['-e', '0'], dir));
      help.push(timeSync([BIN, '--help'], dir));
      status.push(timeSync([BIN, 'status', '--json', '--root', dir], dir));
      if (BASELINE) {
        baseHelp.push(timeSync([BASELINE, '--help'], dir));
        baseStatus.push(timeSync([BASELINE, 'status', '--json', '--root', dir], dir));
      }
      tui.push(await firstFrame(dir, 'STARTUP-BENCH'));
    }
    const base = median(node);
    const baseline: Record<string, number> = BASELINE
      ? {
          'baseline help - node ms': median(baseHelp) - base,
          'baseline status - node ms': median(baseStatus) - base,
          'status over node, this / baseline': ratio(
            median(status) - base,
            median(baseStatus) - base,
          ),
        }
      : {};
    const figures = {
      'node -e 0 ms': base,
      'help ms': median(help),
      'help - node ms (target <= 150)': median(help) - base,
      'status --json ms': median(status),
      'status - node ms (target <= 250)': median(status) - base,
      'plans TUI first frame ms (target < 400)': median(tui),
      ...baseline,
    };
    printTable('Start-up (median)', figures);
    return figures;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) await run();
