import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setInotifyLimit, startWorker } from './watchers-suite-process.ts';
import { type WorkerConfig, writeSteps } from './watchers-suite-worker.ts';

type Rows = Record<string, number | string>;
type Base = Pick<WorkerConfig, 'backend' | 'module'>;

function userNamespaces(): boolean {
  try {
    execFileSync('unshare', ['--user', '--map-root-user', 'true'], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

/**
 * (e) The inotify watch limit reached: 30 project folders (61 folders) in a
 * user namespace allowing 20 watches, as test/reliability/watcher-faults
 * does. Is it reported; once raised, are files in unwatched folders seen by
 * the watcher alone, and after a close and re-open (what RootWatcher does)?
 */
export async function inotifyLimit(base: Base, dir: string): Promise<Rows> {
  if (!userNamespaces()) return { '(e) inotify limit': 'skipped: no user namespaces' };
  const root = join(dir, 'root');
  const phase = (p: string) => `${p}/.context-foundry/current-phase.json`;
  for (let i = 0; i < 30; i++) {
    await mkdir(join(root, `p${i}`, '.context-foundry'), { recursive: true });
    await writeFile(join(root, phase(`p${i}`)), '{}');
  }
  const w = startWorker({ ...base, root, initial: true }, { inotifyLimit: 20 });
  try {
    const ready = await w.until((r) => 'ready' in r, 30_000);
    await new Promise((r) => setTimeout(r, 500));
    const errors = w.reports.filter((r) => 'error' in r).map((r) => String(r.error));
    const found = new Set(w.reports.filter((r) => typeof r.rel === 'string').map((r) => r.rel));
    await setInotifyLimit(w, 100_000);
    let from = w.reports.length;
    await writeSteps(root, [
      { rel: phase('p29'), size: 33 },
      { rel: phase('late'), size: 34 },
    ]);
    const alone = [
      await w.until((r) => r.rel === phase('p29') && r.size === 33, 5000, from),
      await w.until((r) => r.rel === phase('late') && r.size === 34, 5000, from),
    ];
    from = w.reports.length;
    w.send({ op: 'reopen' });
    await w.until((r) => 'ready' in r, 30_000, from);
    from = w.reports.length;
    await writeSteps(root, [
      { rel: phase('p28'), size: 35 },
      { rel: phase('late2'), size: 36 },
    ]);
    const reopened = [
      await w.until((r) => r.rel === phase('p28') && r.size === 35, 5000, from),
      await w.until((r) => r.rel === phase('late2') && r.size === 36, 5000, from),
    ];
    const codes = [...new Set(errors)];
    return {
      '(e) limit 20: error reported': codes.length
        ? `${codes.join(' ')} (${errors.length}×)`
        : 'none',
      '(e) limit 20: start files reported': `${[...found].filter((r) => String(r).endsWith('current-phase.json')).length} of 30${ready ? '' : ', never ready'}`,
      '(e) raised: unwatched folder + new folder seen, watcher alone': `${alone.filter(Boolean).length} of 2`,
      '(e) raised: seen after close + re-open': `${reopened.filter(Boolean).length} of 2`,
    };
  } finally {
    await w.kill();
  }
}

/**
 * (f) Closed while the first scan of `n` project folders is in flight (in the
 * same turn, and 50 ms in): fs.watch handles and inotify watches left a
 * second later, reports after close, and whether the process exits by itself.
 */
export async function closeDuringScan(base: Base, root: string, n: number): Promise<Rows> {
  const rows: Rows = {};
  for (const closeAfterMs of [0, 50]) {
    const w = startWorker({ ...base, root, initial: true, closeAfterMs });
    const closed = await w.until((r) => 'closed' in r, 30_000);
    const at = performance.now();
    const timer = setTimeout(() => void w.kill(), 10_000);
    const code = await w.exited;
    clearTimeout(timer);
    const label = `(f) ${n} folders, closed after ${closeAfterMs} ms`;
    rows[`${label}: handles / watches left, reports after close`] = closed
      ? `${closed.handles} / ${closed.watches}, ${closed.afterClose}`
      : 'no answer';
    rows[`${label}: process exits by itself`] =
      code === 0 ? `yes (${Math.round(performance.now() - at)} ms)` : 'no (killed at 10 s)';
  }
  return rows;
}
