import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { percentile, printTable } from './stats.ts';

/**
 * Start-up of the installed CLI against a bare `node -e 0`, in one run:
 * `--help` (target: within 150 ms of node), `status --json` (250 ms) and the
 * plans TUI in a pty (`script`): its first frame (the dashboard's header on
 * screen, under 400 ms) and the moment the plan's name is on screen, for one
 * plan and for a 21-plan project. Runs bin/livestream.mjs over dist/
 * (`npm run build`).
 *
 * `--baseline DIR` also times another built checkout (DIR/bin/livestream.mjs,
 * e.g. main before a change), interleaved in the same run, so a before/after
 * comparison shares the machine's load.
 */
const BIN = join(import.meta.dirname, '..', 'bin', 'livestream.mjs');
const baselineAt = process.argv.indexOf('--baseline');
const BASELINE =
  baselineAt > 0 && process.argv[baselineAt + 1]
    ? join(process.argv[baselineAt + 1] as string, 'bin', 'livestream.mjs')
    : null;
/** The dashboard's header: the first frame, drawn before any plan is read. */
const HEADER = 'Livestream · Plans';
const RUNS = process.argv.includes('--quick') ? 3 : 10;

function timeSync(args: string[], cwd: string): number {
  const start = performance.now();
  const r = spawnSync(process.execPath, args, { cwd, stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}`);
  return performance.now() - start;
}

/**
 * Kills a process and everything below it, deepest first (`script` → `sh` →
 * the dashboard): a dashboard left behind would still hold the folder's lock
 * when the next run starts.
 */
function killTree(pid: number): void {
  const children = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter(Boolean)
    .map(Number);
  for (const c of children) killTree(c);
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Milliseconds until each needle is on screen, in the order given. */
function firstFrame(bin: string, dir: string, needles: string[]): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const cmd = `${process.execPath} ${bin} plans ${dir}`;
    const child = spawn('script', ['-qfc', cmd, '/dev/null'], {
      cwd: dir,
      stdio: ['pipe', 'pipe', 'ignore'],
      env: { ...process.env, COLUMNS: '120', LINES: '40', TERM: 'xterm-256color' },
    });
    let out = '';
    const seen: number[] = [];
    let done = false;
    // Quit as a user does (the lock is released); killed only if it does not go.
    const stop = () => {
      done = true;
      clearTimeout(timer);
      child.stdin.write('q');
      setTimeout(() => killTree(child.pid as number), 5000).unref();
    };
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const at = performance.now() - start;
      while (seen.length < needles.length && out.includes(needles[seen.length] as string)) {
        seen.push(at);
      }
      if (seen.length === needles.length && !done) stop();
    });
    // A frame that never comes fails the run instead of hanging it.
    const timer = setTimeout(() => {
      done = true;
      killTree(child.pid as number);
      reject(new Error(`no '${needles[seen.length]}' on screen after 20 s:\n${out.slice(-2000)}`));
    }, 20_000);
    // Resolved once the pty is gone, so runs never overlap.
    child.once('exit', () => {
      clearTimeout(timer);
      if (seen.length === needles.length) resolve(seen);
      else reject(new Error(`plans TUI exited before '${needles[seen.length]}':\n${out}`));
    });
  });
}

/**
 * A project the size of FernandoBDAF/context-manager's work-space/plans (its
 * counts, our text): 21 plans — 3 at the top, 9 in `a_paused/`, 9 in
 * `a_real-use-cases/` — each with a 15-achievement index, 6 SUBPLANs
 * declaring their effort, 7 executions, 3 reviews and a documentation folder.
 */
function writeRealSizedProject(root: string): void {
  const plans = join(root, 'work-space', 'plans');
  const groups = [
    '',
    ...Array<string>(9).fill('a_paused'),
    ...Array<string>(9).fill('a_real-use-cases'),
  ];
  groups.unshift('', '');
  groups.forEach((group, i) => {
    const name = `PLAN-${String(i + 1).padStart(2, '0')}-WORKFLOW-AUTOMATION`;
    const dir = join(plans, group, name);
    const write = (rel: string, text: string) => {
      mkdirSync(join(dir, rel, '..'), { recursive: true });
      writeFileSync(join(dir, rel), text);
    };
    const ids = Array.from({ length: 15 }, (_, k) => `${Math.floor(k / 5)}.${(k % 5) + 1}`);
    write(
      `PLAN_${name}.md`,
      [
        `# PLAN: ${name}`,
        '',
        '## 📋 Achievement Index',
        '',
        ...ids.map((id) => `- Achievement ${id}: Step ${id}`),
      ].join('\n'),
    );
    for (const id of ids.slice(0, 6)) {
      const num = id.replace('.', '');
      write(
        `subplans/SUBPLAN_${name}_${num}.md`,
        `# SUBPLAN: Step ${id}\n\n**Achievement**: ${id}  \n**Estimated Effort**: 2-3 hours  \n`,
      );
    }
    for (const id of ids.slice(0, 7)) {
      write(`execution/EXECUTION_TASK_${name}_${id.replace('.', '')}_01.md`, '# EXECUTION\n');
    }
    for (const id of ids.slice(0, 3)) {
      write(
        `execution/feedbacks/APPROVED_${id.replace('.', '')}.md`,
        '**Review Date**: 2025-11-13\n',
      );
    }
    for (let k = 0; k < 8; k++) write(`documentation/NOTE_${k}.md`, '# Notes\n');
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
    const project = join(dir, 'real-sized');
    writeRealSizedProject(project);
    const real = { frame: [] as number[], all: [] as number[] };
    const node: number[] = [];
    const help: number[] = [];
    const status: number[] = [];
    const frame: number[] = [];
    const shown: number[] = [];
    const before = {
      help: [] as number[],
      status: [] as number[],
      frame: [] as number[],
      shown: [] as number[],
      realFrame: [] as number[],
      realAll: [] as number[],
    };
    // Interleaved so load on the machine hits every figure alike.
    for (let i = 0; i < RUNS; i++) {
      node.push(timeSync(['-e', '0'], dir));
      help.push(timeSync([BIN, '--help'], dir));
      status.push(timeSync([BIN, 'status', '--json', '--root', dir], dir));
      const [f, p] = await firstFrame(BIN, dir, [HEADER, 'STARTUP-BENCH']);
      frame.push(f as number);
      shown.push(p as number);
      const [rf, ra] = await firstFrame(BIN, project, [HEADER, '21 plans']);
      real.frame.push(rf as number);
      real.all.push(ra as number);
      if (BASELINE) {
        before.help.push(timeSync([BASELINE, '--help'], dir));
        before.status.push(timeSync([BASELINE, 'status', '--json', '--root', dir], dir));
        const [bf, bp] = await firstFrame(BASELINE, dir, [HEADER, 'STARTUP-BENCH']);
        before.frame.push(bf as number);
        before.shown.push(bp as number);
        const [brf, bra] = await firstFrame(BASELINE, project, [HEADER, '21 plans']);
        before.realFrame.push(brf as number);
        before.realAll.push(bra as number);
      }
    }
    const base = median(node);
    const figures: Record<string, number> = {
      'node -e 0 ms': base,
      'help ms': median(help),
      'help - node ms (target <= 150)': median(help) - base,
      'status --json ms': median(status),
      'status - node ms (target <= 250)': median(status) - base,
      'plans TUI first frame ms (target < 400)': median(frame),
      'plans TUI plan on screen ms': median(shown),
      '21-plan project: first frame ms': median(real.frame),
      '21-plan project: all plans on screen ms': median(real.all),
    };
    if (BASELINE) {
      Object.assign(figures, {
        'baseline help - node ms': median(before.help) - base,
        'baseline status - node ms': median(before.status) - base,
        'status over node, this / baseline': ratio(
          median(status) - base,
          median(before.status) - base,
        ),
        'baseline plans TUI first frame ms': median(before.frame),
        'baseline plans TUI plan on screen ms': median(before.shown),
        'first frame, baseline / this': ratio(median(before.frame), median(frame)),
        'plan on screen, baseline / this': ratio(median(before.shown), median(shown)),
        'baseline 21-plan project: first frame ms': median(before.realFrame),
        'baseline 21-plan project: all plans on screen ms': median(before.realAll),
        '21-plan first frame, baseline / this': ratio(median(before.realFrame), median(real.frame)),
        '21-plan all on screen, baseline / this': ratio(median(before.realAll), median(real.all)),
      });
    }
    printTable('Start-up (median)', figures);
    return figures;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) await run();
