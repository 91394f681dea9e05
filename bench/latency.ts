import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startServer } from '../test/helpers/server.ts';
import { percentile, printTable } from './stats.ts';

const CLIENTS = 100;
const WRITES = 60;

/**
 * Issue 2's figure: with 100 clients on the legacy `WS /ws/:id`, the time from
 * a phase-file write to the status message at each client; and that an
 * identical rewrite sends nothing. The server runs as a child process, as in
 * production.
 */
export async function run(): Promise<Record<string, number>> {
  const dir = await mkdtemp(join(tmpdir(), 'livestream-bench-'));
  const project = join(dir, 'root', 'bench-app', '.context-foundry');
  await mkdir(project, { recursive: true });
  const file = join(project, 'current-phase.json');
  const doc = (i: number) =>
    JSON.stringify({
      session_id: 'bench-app',
      current_phase: 'Builder',
      phase_number: '4/7',
      status: 'in_progress',
      progress_detail: `step ${i}`,
    });
  await writeFile(file, doc(0));
  const server = await startServer(['--root', join(dir, 'root'), '--db', join(dir, 'b.db')]);
  const wsUrl = `${server.url.replace('http', 'ws')}/ws/bench-app`;
  const latencies: number[] = [];
  let messages = 0;
  let writtenAt = 0;
  let waiting = 0;
  let onRound: (() => void) | null = null;
  const clients: WebSocket[] = [];
  try {
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        const ws = new WebSocket(wsUrl);
        clients.push(ws);
        await new Promise<void>((resolve, reject) => {
          ws.once('message', () => resolve());
          ws.once('error', reject);
        });
        ws.on('message', () => {
          messages++;
          latencies.push(performance.now() - writtenAt);
          if (--waiting === 0) onRound?.();
        });
      }),
    );
    for (let i = 1; i <= WRITES; i++) {
      waiting = CLIENTS;
      const round = new Promise<void>((resolve) => {
        onRound = resolve;
      });
      writtenAt = performance.now();
      await writeFile(file, doc(i));
      await round;
    }
    const before = messages;
    for (let i = 0; i < 10; i++) await writeFile(file, doc(WRITES));
    // A final real change flushes anything the identical rewrites might have caused.
    waiting = CLIENTS;
    const last = new Promise<void>((resolve) => {
      onRound = resolve;
    });
    writtenAt = performance.now();
    await writeFile(file, doc(WRITES + 1));
    await last;
    const identicalSent = messages - before - CLIENTS;
    const result = {
      clients: CLIENTS,
      writes: WRITES,
      'p50 ms': percentile(latencies, 50),
      'p99 ms': percentile(latencies, 99),
      'max ms': percentile(latencies, 100),
      'messages after 10 identical rewrites': identicalSent,
    };
    printTable('file write → status at 100 WebSocket clients (target p99 < 50 ms)', result);
    return result;
  } finally {
    for (const ws of clients) ws.terminate();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) await run();
