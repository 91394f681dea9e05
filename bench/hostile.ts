import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ServerProcess, startServer } from '../test/helpers/server.ts';
import { percentile, printTable } from './stats.ts';

/**
 * Hostile-sized pushes against a real `serve` child (dist/, `npm run build`),
 * in one run: PUSHES pushes whose phase name is a distinct 1 MB string (issue
 * 14.3's repro), against the same number of ordinary pushes on a server of
 * its own. Fields are bounded (issue 14.2), so the large pushes should cost
 * what parsing a megabyte costs and leave memory and the database as small
 * as ordinary ones. Before the bounds (0acd902) the large run measured a
 * 442.5 ms median push (232.9× an ordinary one), 1,356 MB RSS and a 1,010 MB database.
 */
const PUSHES = process.argv.includes('--quick') ? 50 : 200;

interface RunFigures {
  medianMs: number;
  p95Ms: number;
  rssMb: number;
  dbMb: number;
}

async function pushes(phase: (i: number) => string): Promise<RunFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'ls-bench-hostile-'));
  let server: ServerProcess | null = null;
  try {
    const db = join(dir, 'h.db');
    server = await startServer(['--root', dir, '--db', db, '--no-agents']);
    const times: number[] = [];
    for (let i = 0; i < PUSHES; i++) {
      const body = JSON.stringify({
        session_id: 'bench',
        current_phase: phase(i),
        status: 'active',
      });
      const started = performance.now();
      const response = await fetch(`${server.url}/api/phase-update`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      await response.arrayBuffer();
      if (response.status === 429) {
        i--;
        await new Promise((r) => setTimeout(r, 1000));
        continue;
      }
      if (response.status !== 200) throw new Error(`push answered ${response.status}`);
      times.push(performance.now() - started);
    }
    const status = readFileSync(`/proc/${server.child.pid}/status`, 'utf8');
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    let dbBytes = 0;
    for (const file of [db, `${db}-wal`])
      dbBytes += statSync(file, { throwIfNoEntry: false })?.size ?? 0;
    return {
      medianMs: Math.round(percentile(times, 50) * 10) / 10,
      p95Ms: Math.round(percentile(times, 95) * 10) / 10,
      rssMb: Math.round(rssKb / 1024),
      dbMb: Math.round(dbBytes / 1e5) / 10,
    };
  } finally {
    await server?.stop('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(): Promise<Record<string, number>> {
  const ordinary = await pushes((i) => `Phase ${i}`);
  const large = await pushes((i) => `${i}${'P'.repeat(1_000_000)}`);
  const figures = {
    'ordinary push median (ms)': ordinary.medianMs,
    '1 MB phase-name push median (ms)': large.medianMs,
    '1 MB phase-name push p95 (ms)': large.p95Ms,
    'push median ratio (1 MB / ordinary)':
      Math.round((large.medianMs / ordinary.medianMs) * 10) / 10,
    'RSS after ordinary pushes (MB)': ordinary.rssMb,
    'RSS after 1 MB pushes (MB)': large.rssMb,
    'database after ordinary pushes (MB)': ordinary.dbMb,
    'database after 1 MB pushes (MB)': large.dbMb,
  };
  printTable(`hostile: ${PUSHES} pushes each`, figures);
  return figures;
}
