import { readFileSync, unlinkSync } from 'node:fs';
import { open, readFile, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';

/** The lock file's name inside the plans folder. */
export const LOCK_NAME = '.livestream-plans.lock';
/** A lock file still empty or half written after this long belongs to a crashed starter. */
const UNWRITTEN_GRACE_MS = 10_000;
/** How many 25 ms waits a starter gives a lock file that is being written. */
const UNWRITTEN_WAITS = 20;

/** Who holds a plans folder. */
export interface LockOwner {
  pid: number;
  /** Start time of the process from /proc/<pid>/stat (clock ticks since boot); null off Linux. */
  startTime: number | null;
  host: string;
  /** When the lock was taken (epoch ms). */
  createdAt: number;
}

const ownerSchema = z.object({
  pid: z.number().int().positive(),
  startTime: z.number().nullable(),
  host: z.string(),
  createdAt: z.number(),
});

/** The start time of a process (field 22 of /proc/<pid>/stat), or null when unknown. */
export function processStartTime(pid: number): number | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces or ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const value = Number(fields[19]);
    return Number.isFinite(value) ? value : null;
  } catch {
    return null;
  }
}

/**
 * Whether the process has ended but was not reaped yet (state `Z` in
 * /proc/<pid>/stat): killed, its pid still answers, but it holds nothing.
 */
function isZombie(pid: number): boolean {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

/** Whether a process with this pid exists (EPERM means it does, as another user). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether the lock's owner still runs. A dead pid is stale; so is a live pid
 * whose start time differs from the recorded one (the pid was reused). An
 * owner on another host cannot be checked and counts as live.
 */
export function ownerAlive(owner: LockOwner, host = hostname()): boolean {
  if (owner.host !== host) return true;
  if (!pidAlive(owner.pid) || isZombie(owner.pid)) return false;
  if (owner.startTime === null) return true;
  const now = processStartTime(owner.pid);
  return now === null || now === owner.startTime;
}

export type LockResult =
  | { acquired: true; lock: PlansLock }
  | { acquired: false; owner: LockOwner | null; path: string };

/**
 * One instance per plans folder. `acquire` creates the lock with an exclusive
 * create (`wx`), so of two instances starting together exactly one wins. A
 * stale lock is reclaimed under a second exclusive file, so two reclaimers
 * never delete each other's fresh lock. `release` removes the file only while
 * it still names this process: a second instance never removes the first's.
 */
export class PlansLock {
  readonly path: string;
  readonly owner: LockOwner;
  #released = false;
  readonly #onExit = () => this.releaseSync();

  private constructor(path: string, owner: LockOwner) {
    this.path = path;
    this.owner = owner;
    process.once('exit', this.#onExit);
  }

  static async acquire(dir: string, now: () => number = Date.now): Promise<LockResult> {
    const path = join(dir, LOCK_NAME);
    const owner: LockOwner = {
      pid: process.pid,
      startTime: processStartTime(process.pid),
      host: hostname(),
      createdAt: now(),
    };
    let unwritten = 0;
    for (let attempt = 0; attempt < 40; attempt++) {
      if (await createExclusive(path, `${JSON.stringify(owner)}\n`)) {
        return { acquired: true, lock: new PlansLock(path, owner) };
      }
      const held = await readOwner(path, now);
      if (held === 'gone') continue;
      // An instance that won the race writes its name within milliseconds of creating the
      // file: wait for it (up to ~0.5 s) so the user is told who holds the folder.
      if (held === null && unwritten++ < UNWRITTEN_WAITS) {
        await new Promise((done) => setTimeout(done, 25));
        continue;
      }
      if (held !== 'stale' && (held === null || ownerAlive(held))) {
        return { acquired: false, owner: held, path };
      }
      await reclaim(path, held === 'stale' ? null : held, now);
    }
    return { acquired: false, owner: null, path };
  }

  /** Whether the lock file still names this process. */
  ownsFile(): boolean {
    try {
      const parsed = ownerSchema.safeParse(JSON.parse(readFileSync(this.path, 'utf8')));
      return (
        parsed.success &&
        parsed.data.pid === this.owner.pid &&
        parsed.data.createdAt === this.owner.createdAt &&
        parsed.data.host === this.owner.host
      );
    } catch {
      return false;
    }
  }

  /** Removes the lock if it is still ours. Safe to call more than once, and from an `exit` handler. */
  releaseSync(): void {
    if (this.#released) return;
    this.#released = true;
    process.removeListener('exit', this.#onExit);
    if (!this.ownsFile()) return;
    try {
      unlinkSync(this.path);
    } catch {
      // already gone
    }
  }
}

async function createExclusive(path: string, content: string): Promise<boolean> {
  let handle: import('node:fs/promises').FileHandle;
  try {
    handle = await open(path, 'wx', 0o644);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    await handle.writeFile(content);
  } finally {
    await handle.close();
  }
  return true;
}

/**
 * The lock's owner; null while it is being written by a starting instance;
 * 'stale' when it stayed unreadable past the grace period; 'gone' when it
 * vanished in between.
 */
async function readOwner(
  path: string,
  now: () => number,
): Promise<LockOwner | null | 'stale' | 'gone'> {
  let text: string;
  let mtimeMs: number;
  try {
    [text, mtimeMs] = await Promise.all([
      readFile(path, 'utf8'),
      stat(path).then((s) => s.mtimeMs),
    ]);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    throw error;
  }
  try {
    const parsed = ownerSchema.safeParse(JSON.parse(text));
    if (parsed.success) return parsed.data;
  } catch {
    // half written or garbage: judged by age below
  }
  return now() - mtimeMs > UNWRITTEN_GRACE_MS ? 'stale' : null;
}

/** Deletes a stale lock, unless someone else replaced it meanwhile. */
async function reclaim(path: string, stale: LockOwner | null, now: () => number): Promise<void> {
  const guard = `${path}.reclaim`;
  if (!(await createExclusive(guard, String(process.pid)))) {
    // Another instance is reclaiming; a guard left by a crash expires.
    const age = await stat(guard).then(
      (s) => now() - s.mtimeMs,
      () => 0,
    );
    if (age > UNWRITTEN_GRACE_MS) await unlink(guard).catch(() => undefined);
    else await new Promise((done) => setTimeout(done, 25));
    return;
  }
  try {
    const current = await readOwner(path, now);
    const same =
      current === 'stale'
        ? stale === null
        : current !== null &&
          current !== 'gone' &&
          stale !== null &&
          current.pid === stale.pid &&
          current.createdAt === stale.createdAt;
    if (same) await unlink(path).catch(() => undefined);
  } finally {
    await unlink(guard).catch(() => undefined);
  }
}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const SIGNAL_CODES: Record<(typeof SIGNALS)[number], number> = {
  SIGINT: 2,
  SIGTERM: 15,
  SIGHUP: 1,
};

/**
 * Releases the lock when the process is ended by a signal (which skips `exit`
 * handlers) and then exits with the conventional 128+n code. Uncaught errors
 * end through `exit`, which the lock already handles. Returns the uninstaller.
 */
export function releaseOnSignals(lock: PlansLock, beforeExit?: () => void): () => void {
  const handlers = SIGNALS.map((signal) => {
    const handler = () => {
      beforeExit?.();
      lock.releaseSync();
      process.exit(128 + SIGNAL_CODES[signal]);
    };
    process.on(signal, handler);
    return () => process.removeListener(signal, handler);
  });
  return () => {
    for (const off of handlers) off();
  };
}
