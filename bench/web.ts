/// <reference lib="dom" />
import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Browser, type CDPSession, chromium, type Page } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../e2e/chromium.ts';
import { phaseDoc, ServerProcess } from '../e2e/server.ts';
import { printTable } from './stats.ts';

const SESSIONS = 200;
const LINES_PER_SECOND = 200;
const BATCH_MS = 100;
const WARMUP_MS = 5_000;
const SAMPLE_MS = 5_000;
const BENCH_CHROMIUM_ARGS = [
  ...CHROMIUM_ARGS,
  // Lets one headless process render both pages at full rate.
  '--disable-renderer-backgrounding',
  '--disable-background-timer-throttling',
  '--disable-backgrounding-occluded-windows',
];

/** `--minutes 5` or `--seconds 30` on the command line; 60 s by default. */
function durationMs(argv: readonly string[]): number {
  const at = (flag: string) => {
    const i = argv.indexOf(flag);
    const n = i >= 0 ? Number(argv[i + 1]) : Number.NaN;
    return Number.isFinite(n) && n > 0 ? n : null;
  };
  return (at('--minutes') ?? 0) * 60_000 || (at('--seconds') ?? 0) * 1000 || 60_000;
}

interface Probe {
  page: Page;
  cdp: CDPSession;
  heapMB: number[];
}

async function openProbe(browser: Browser, url: string): Promise<Probe> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.addInitScript(() => {
    const w = window as unknown as { longTasks: number[] };
    w.longTasks = [];
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) w.longTasks.push(entry.duration);
    }).observe({ type: 'longtask', buffered: true });
  });
  await page.goto(url);
  await page.locator('.conn[data-status="live"]').waitFor();
  const cdp = await context.newCDPSession(page);
  await cdp.send('HeapProfiler.enable');
  return { page, cdp, heapMB: [] };
}

/** Heap in use after a forced GC, so the trend shows what is retained, not garbage. */
async function sampleHeap(p: Probe): Promise<void> {
  await p.cdp.send('HeapProfiler.collectGarbage');
  const usage = (await p.cdp.send('Runtime.getHeapUsage')) as { usedSize: number };
  p.heapMB.push(usage.usedSize / 1048576);
}

function mean(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length;
}

async function figures(p: Probe): Promise<Record<string, number>> {
  const tasks = await p.page.evaluate(
    () => (window as unknown as { longTasks: number[] }).longTasks,
  );
  const third = Math.max(1, Math.floor(p.heapMB.length / 3));
  const first = mean(p.heapMB.slice(0, third));
  const last = mean(p.heapMB.slice(-third));
  return {
    longTasksOver50ms: tasks.length,
    maxLongTaskMs: tasks.length === 0 ? 0 : Math.max(...tasks),
    heapStartMB: first,
    heapEndMB: last,
    heapGrowthMB: last - first,
  };
}

/**
 * The dashboard under load: 200 sessions (10 of them changing every second)
 * and one session logging 200 lines/s, with the overview and that session's
 * page open. Reports main-thread long tasks (> 50 ms, PerformanceObserver
 * 'longtask') and the retained JS heap (after forced GC) over the run.
 */
export async function run(argv: readonly string[] = process.argv): Promise<Record<string, number>> {
  const duration = durationMs(argv);
  const server = await ServerProcess.start();
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: BENCH_CHROMIUM_ARGS,
  });
  const timers: ReturnType<typeof setInterval>[] = [];
  try {
    const ids = Array.from({ length: SESSIONS }, (_, i) => `bench-${String(i).padStart(3, '0')}`);
    await Promise.all(ids.map((id) => server.writePhase(id, phaseDoc(id))));
    const streamId = ids[0] as string;
    const events = join(server.root, 'logs', 'events', streamId, 'events.jsonl');
    await server.writeFile(join('logs', 'events', streamId, 'events.jsonl'), '');

    let written = 0;
    const perBatch = (LINES_PER_SECOND * BATCH_MS) / 1000;
    timers.push(
      setInterval(() => {
        const lines: string[] = [];
        for (let i = 0; i < perBatch; i++) {
          written++;
          lines.push(
            JSON.stringify({
              type: 'log_line',
              session_id: streamId,
              timestamp: new Date().toISOString(),
              sequence: written,
              data: {
                line: `builder: step ${written} compiled src/module-${written % 97}.ts in ${written % 50} ms`,
              },
            }),
          );
        }
        void appendFile(events, `${lines.join('\n')}\n`);
      }, BATCH_MS),
    );
    let tick = 0;
    const phases = ['Scout', 'Architect', 'Builder', 'Test', 'Documentation'];
    timers.push(
      setInterval(() => {
        tick++;
        for (let k = 0; k < 10; k++) {
          const id = ids[(tick * 10 + k) % SESSIONS] as string;
          void server.writePhase(
            id,
            phaseDoc(id, {
              current_phase: phases[tick % phases.length],
              progress_detail: `tick ${tick}`,
            }),
          );
        }
      }, 1000),
    );

    const overview = await openProbe(browser, `${server.url}/#/`);
    const session = await openProbe(browser, `${server.url}/#/session/${streamId}`);
    await new Promise((r) => setTimeout(r, WARMUP_MS));
    const probes = [overview, session];
    for (const p of probes) {
      await p.page.evaluate(() => {
        (window as unknown as { longTasks: number[] }).longTasks = [];
      });
    }
    const end = Date.now() + duration;
    while (Date.now() < end) {
      for (const p of probes) await sampleHeap(p);
      await new Promise((r) => setTimeout(r, Math.min(SAMPLE_MS, Math.max(0, end - Date.now()))));
    }
    for (const p of probes) await sampleHeap(p);
    const lastLine = await session.page
      .locator('.log-row')
      .last()
      .getAttribute('data-n')
      .catch(() => null);

    if (server.child === null || server.child.exitCode !== null) {
      throw new Error(`the server exited during the run:\n${server.output.slice(-2000)}`);
    }
    const res = await fetch(`${server.url}/api/logs/${streamId}?lines=1`);
    const tail = (await res.json()) as { lines?: { n: number }[] };
    if (!tail.lines)
      throw new Error(`GET /api/logs answered ${res.status}: ${JSON.stringify(tail)}`);
    const serverLast = tail.lines.at(-1)?.n ?? 0;
    const result: Record<string, number> = {
      sessions: SESSIONS,
      durationS: duration / 1000,
      linesWritten: written,
      serverLastLine: serverLast,
      pageLastLine: Number(lastLine ?? 0),
    };
    for (const [name, p] of [
      ['overview', overview],
      ['session', session],
    ] as const) {
      for (const [key, value] of Object.entries(await figures(p))) result[`${name}.${key}`] = value;
    }
    return result;
  } finally {
    for (const t of timers) clearInterval(t);
    await browser.close();
    await server.dispose();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await run();
  printTable(
    `Web dashboard under load (${SESSIONS} sessions, ${LINES_PER_SECOND} lines/s)`,
    result,
  );
}
