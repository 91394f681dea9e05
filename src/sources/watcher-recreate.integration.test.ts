import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import type { FileEvent, FileHandler } from './types.ts';
import { RootWatcher } from './watcher.ts';

/** How long one write may take to be reported. */
const DEADLINE_MS = 2000;
const CYCLES = 15;
const PLAN = 'p/work-space/plans/X';
/** One file per folder level of a plan, the layout orchestrators write. */
const FILES = [
  'PLAN_X.md',
  'subplans/SUBPLAN_11.md',
  'execution/EXEC_11_01.md',
  'execution/feedbacks/FIX_11.md',
];

interface Seen {
  kind: FileEvent['kind'];
  rel: string;
  size?: number;
}

/** Records routed events; `seenWithin` waits for one until a deadline. */
function recorder(root: string) {
  const seen: Seen[] = [];
  let waiters: { pred: (s: Seen) => boolean; done: (ok: boolean) => void }[] = [];
  const handler: FileHandler = {
    name: 'recorder',
    match: () => true,
    handle(event) {
      const entry: Seen = { kind: event.kind, rel: event.path.slice(root.length + 1) };
      if (event.stats) entry.size = event.stats.size;
      seen.push(entry);
      waiters = waiters.filter((w) => {
        if (!w.pred(entry)) return true;
        w.done(true);
        return false;
      });
    },
  };
  const seenWithin = (pred: (s: Seen) => boolean, ms: number) =>
    new Promise<boolean>((done) => {
      if (seen.some(pred)) return done(true);
      const timer = setTimeout(() => {
        waiters = waiters.filter((w) => w.pred !== pred);
        done(false);
      }, ms);
      waiters.push({
        pred,
        done: (ok) => {
          clearTimeout(timer);
          done(ok);
        },
      });
    });
  return { handler, seenWithin };
}

/** Recreates the plan folder and writes files, in this process or in a child. */
interface Writer {
  recreate(files: { rel: string; size: number }[]): Promise<void>;
  write(files: { rel: string; size: number }[]): Promise<void>;
  close(): void;
}

function inProcess(root: string): Writer {
  const writeAll = async (files: { rel: string; size: number }[]) => {
    for (const f of files) await writeFile(join(root, f.rel), 'x'.repeat(f.size));
  };
  return {
    async recreate(files) {
      const plan = join(root, PLAN);
      await rm(plan, { recursive: true, force: true });
      await mkdir(join(plan, 'subplans'), { recursive: true });
      await mkdir(join(plan, 'execution/feedbacks'), { recursive: true });
      await writeAll(files);
    },
    write: writeAll,
    close: () => undefined,
  };
}

/** Another process doing the same, as an orchestrator would: its syscalls do not wait for our event loop. */
const CHILD = `
const fs = require('node:fs');
const path = require('node:path');
const root = process.argv[1];
const plan = path.join(root, ${JSON.stringify(PLAN)});
require('node:readline').createInterface({ input: process.stdin }).on('line', (line) => {
  const { op, files } = JSON.parse(line);
  if (op === 'recreate') {
    fs.rmSync(plan, { recursive: true, force: true });
    fs.mkdirSync(path.join(plan, 'subplans'), { recursive: true });
    fs.mkdirSync(path.join(plan, 'execution/feedbacks'), { recursive: true });
  }
  for (const f of files) fs.writeFileSync(path.join(root, f.rel), 'x'.repeat(f.size));
  process.stdout.write('done\\n');
});
`;

function childProcess(root: string): Writer {
  const child: ChildProcess = spawn(process.execPath, ['-e', CHILD, root], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const replies: (() => void)[] = [];
  lines.on('line', () => replies.shift()?.());
  const send = (op: string, files: { rel: string; size: number }[]) =>
    new Promise<void>((done) => {
      replies.push(done);
      child.stdin?.write(`${JSON.stringify({ op, files })}\n`);
    });
  return {
    recreate: (files) => send('recreate', files),
    write: (files) => send('write', files),
    close: () => child.kill(),
  };
}

const temps: string[] = [];
after(async () => {
  for (const dir of temps) await rm(dir, { recursive: true, force: true });
});

describe('RootWatcher: a watched folder deleted and re-created', () => {
  for (const mode of ['in-process', 'child process'] as const) {
    it(`reports writes at every level after each re-creation (${mode})`, async (t) => {
      const root = await mkdtemp(join(tmpdir(), 'ls-recreate-'));
      temps.push(root);
      await mkdir(join(root, PLAN, 'subplans'), { recursive: true });
      await mkdir(join(root, PLAN, 'execution/feedbacks'), { recursive: true });
      const rec = recorder(root);
      const watcher = new RootWatcher({
        roots: [root],
        handlers: [rec.handler],
        logger: pino({ level: 'silent' }),
      });
      t.after(() => watcher.stop());
      await watcher.start();
      const writer = mode === 'in-process' ? inProcess(root) : childProcess(root);
      t.after(() => writer.close());

      const missed: string[] = [];
      const expect = async (
        cycle: number,
        round: string,
        files: { rel: string; size: number }[],
      ) => {
        const results = await Promise.all(
          files.map((f) =>
            rec.seenWithin(
              (s) => s.kind !== 'unlink' && s.rel === f.rel && s.size === f.size,
              DEADLINE_MS,
            ),
          ),
        );
        files.forEach((f, i) => {
          if (!results[i]) missed.push(`cycle ${cycle} ${round}: ${f.rel} (${f.size} bytes)`);
        });
      };
      for (let cycle = 0; cycle < CYCLES; cycle++) {
        // Sizes are unique per cycle and round, so an event of an earlier write cannot count.
        const first = FILES.map((f) => ({ rel: `${PLAN}/${f}`, size: 1 + cycle * 2 }));
        await writer.recreate(first);
        await expect(cycle, 'written with the re-creation', first);
        const second = FILES.map((f) => ({ rel: `${PLAN}/${f}`, size: 2 + cycle * 2 }));
        await writer.write(second);
        await expect(cycle, 'rewritten after it was reported', second);
      }
      assert.deepEqual(
        missed,
        [],
        `${missed.length} of ${CYCLES * FILES.length * 2} writes missed`,
      );
    });
  }
});
