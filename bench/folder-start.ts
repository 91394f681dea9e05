import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NODE_FLAGS, runtimeEnv } from '../bin/runtime.mjs';
import { printTable } from './stats.ts';

/**
 * First start of `serve` over a root of N project folders, each a Context
 * Foundry project with `.context-foundry/current-phase.json` and a test
 * results file, for two sizes in one run (2,000 and 20,000; `--quick`: 500
 * and 5,000), then a restart over the history the first start wrote. Timed
 * from spawn: until the port answers (listening), and until `GET /api/health`
 * counts all N sessions and says the roots are read (first state complete).
 * Start-up is linear when the big/small ratio is about the size ratio (10×).
 * Runs the compiled CLI (`node scripts/build.mjs`) in a child process, as a
 * user starts it.
 */
const ROOT = join(import.meta.dirname, '..');
const quick = process.argv.includes('--quick');
const SIZES = quick ? [500, 5000] : [2000, 20_000];
const TIMEOUT_MS = 180_000;

async function makeProjects(root: string, n: number): Promise<void> {
  const at = new Date(Date.now() - 60_000).toISOString();
  for (let i = 0; i < n; i += 200) {
    await Promise.all(
      Array.from({ length: Math.min(200, n - i) }, async (_, j) => {
        const name = `project-${String(i + j).padStart(5, '0')}`;
        const cf = join(root, name, '.context-foundry');
        await mkdir(cf, { recursive: true });
        // A metric file too: the metrics engine finds its session by folder, once per file.
        await writeFile(
          join(cf, 'test-results-iteration-1.md'),
          '# Test Results - Iteration 1\n\n## Summary\n- Total: 12\n- Passed: 12\n- Failed: 0\n- Duration: 3s\n',
        );
        await writeFile(
          join(cf, 'current-phase.json'),
          JSON.stringify({
            session_id: name,
            current_phase: 'Builder',
            phase_number: '3/7',
            status: 'in_progress',
            progress_detail: `building ${name}`,
            phases_completed: ['Scout', 'Architect'],
            started_at: at,
            last_updated: at,
          }),
        );
      }),
    );
  }
}

async function untilListening(port: number, child: ChildProcess): Promise<void> {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`serve exited with ${child.exitCode}`);
    try {
      await fetch(`http://127.0.0.1:${port}/api/health`, { signal: AbortSignal.timeout(2000) });
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

/** Until all N sessions are in and the roots read (`scan`; a restart restores them first). */
async function untilComplete(port: number, n: number): Promise<void> {
  for (;;) {
    const res = await fetch(`http://127.0.0.1:${port}/api/health`);
    const body = (await res.json()) as { sessions?: number; scan?: { state: string } };
    if ((body.sessions ?? 0) >= n && (body.scan?.state ?? 'watching') === 'watching') return;
    // Not too often: each health answer sorts every session.
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A free port: bind 0, read it, close (the child binds it right after). */
async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

interface Start {
  listenMs: number;
  completeMs: number;
}

/** First start over a fresh database, then a restart over the history it wrote. */
async function startTwice(n: number): Promise<{ first: Start; again: Start }> {
  const dir = mkdtempSync(join(tmpdir(), 'livestream-bench-folders-'));
  try {
    await makeProjects(join(dir, 'root'), n);
    const first = await startOnce(dir, n);
    const again = await startOnce(dir, n);
    return { first, again };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function startOnce(dir: string, n: number): Promise<Start> {
  const root = join(dir, 'root');
  const port = await freePort();
  const start = performance.now();
  const child = spawn(
    process.execPath,
    [
      ...NODE_FLAGS,
      join(ROOT, 'dist', 'cli.js'),
      'serve',
      '--root',
      root,
      '--port',
      String(port),
      '--db',
      join(dir, 'ls.db'),
      '--no-agents',
    ],
    {
      cwd: ROOT,
      env: runtimeEnv({ ...process.env, LIVESTREAM_LOG_LEVEL: 'warn' }),
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const deadline = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
  try {
    await untilListening(port, child);
    const listenMs = performance.now() - start;
    await untilComplete(port, n);
    const completeMs = performance.now() - start;
    return { listenMs, completeMs };
  } catch (error) {
    process.stdout.write(
      `  ${n} folders: ${(error as Error).message} (timeout ${TIMEOUT_MS} ms)\n`,
    );
    return { listenMs: Number.NaN, completeMs: Number.NaN };
  } finally {
    clearTimeout(deadline);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  }
}

export async function run(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const results = [];
  for (const n of SIZES) {
    const r = await startTwice(n);
    results.push(r);
    out[`${n} folders: listening (ms)`] = Math.round(r.first.listenMs);
    out[`${n} folders: all sessions (ms)`] = Math.round(r.first.completeMs);
    out[`${n} folders, restart: listening (ms)`] = Math.round(r.again.listenMs);
    out[`${n} folders, restart: all sessions (ms)`] = Math.round(r.again.completeMs);
  }
  const [small, big] = results as [(typeof results)[0], (typeof results)[0]];
  const [a, b] = SIZES as [number, number];
  out[`all sessions ratio ${b}/${a} (linear: ${b / a})`] =
    big.first.completeMs / small.first.completeMs;
  out[`listening ratio ${b}/${a}`] = big.first.listenMs / small.first.listenMs;
  out[`restart all sessions ratio ${b}/${a}`] = big.again.completeMs / small.again.completeMs;
  printTable('First start over N project folders', out);
  return out;
}
