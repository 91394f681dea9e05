import { basename, dirname, join } from 'node:path';
import type { Logger } from 'pino';
import type { PlanSourceEvent } from '../../core/plans/types.ts';
import type { FileEvent, FileHandler } from '../types.ts';
import { readPlanFolder } from './read.ts';

/** Files directly in a plan folder that change its state. */
const TOP_FILE = /^(?:PLAN_.*\.md|parallel\.json)$/i;

/**
 * Where a path relative to a watched root lies: the plan folder's path
 * (relative, `…/work-space/plans/[<grouping>/…]<PLAN>`) when it is a plan
 * file, else null. A plan folder is the one holding `subplans/` or
 * `execution/`, or the folder of a PLAN_*.md / parallel.json — at any depth,
 * so plans inside grouping folders (`a_paused/`) are found.
 */
export function planFolderOf(relPath: string): string | null {
  const segs = relPath.split('/');
  for (let i = 0; i + 3 < segs.length; i++) {
    if (segs[i] !== 'work-space' || segs[i + 1] !== 'plans') continue;
    const rest = segs.slice(i + 2);
    if (rest.some((s) => s.startsWith('.'))) return null;
    const work = rest.findIndex((s, k) => k > 0 && (s === 'subplans' || s === 'execution'));
    if (work > 0) {
      const inside = rest.slice(work);
      const ok =
        inside.length === 2 ||
        (inside.length === 3 && inside[0] === 'execution' && inside[1] === 'feedbacks');
      return ok ? segs.slice(0, i + 2 + work).join('/') : null;
    }
    return TOP_FILE.test(rest.at(-1) as string) ? segs.slice(0, -1).join('/') : null;
  }
  return null;
}

/** The grouping of a plan folder: the folders between `work-space/plans` and it; null when none. */
function groupOfPlanDir(planDir: string): string | null {
  const segs = planDir.split(/[\\/]/);
  for (let i = segs.length - 2; i > 0; i--) {
    if (segs[i - 1] === 'work-space' && segs[i] === 'plans') {
      const group = segs.slice(i + 1, -1).join('/');
      return group === '' ? null : group;
    }
  }
  return null;
}

/**
 * The plan folders found under the server's watched roots, as plan events.
 * File events are coalesced per plan folder for `debounceMs`; then only that
 * folder is read. A plan id is its folder name; when two projects have a plan
 * of the same name, the later one is `NAME@<project folder>`.
 */
export class PlanFoldersSource {
  readonly #emit: (event: PlanSourceEvent) => void;
  readonly #log: Logger;
  readonly #debounceMs: number;
  readonly #idByDir = new Map<string, string>();
  /** Folders that produced a plan (a read that found nothing of one there emits no `gone`). */
  readonly #published = new Set<string>();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #running = new Map<string, Promise<void>>();
  readonly #again = new Set<string>();
  #closed = false;

  constructor(
    emit: (event: PlanSourceEvent) => void,
    opts: { logger: Logger; debounceMs?: number },
  ) {
    this.#emit = emit;
    this.#log = opts.logger;
    this.#debounceMs = opts.debounceMs ?? 150;
  }

  /** The handler for `**\/work-space/plans/<PLAN>/**` under the watcher's roots. */
  handlers(): FileHandler[] {
    return [
      {
        name: 'plans',
        match: (rel) => planFolderOf(rel) !== null,
        handle: (event: FileEvent) => {
          const rel = event.path
            .slice(event.root.length + 1)
            .split('\\')
            .join('/');
          const folder = planFolderOf(rel);
          if (folder !== null) this.touch(join(event.root, folder));
        },
      },
    ];
  }

  /** Schedules a re-read of one plan folder (absolute path). */
  touch(planDir: string): void {
    if (this.#closed) return;
    const pending = this.#timers.get(planDir);
    if (pending) clearTimeout(pending);
    this.#timers.set(
      planDir,
      setTimeout(() => {
        this.#timers.delete(planDir);
        void this.#reload(planDir);
      }, this.#debounceMs),
    );
  }

  /** Resolves when no re-read is scheduled or running (start-up, tests, shutdown). */
  async idle(): Promise<void> {
    while (this.#timers.size > 0 || this.#running.size > 0) {
      for (const [dir, timer] of this.#timers) {
        clearTimeout(timer);
        this.#timers.delete(dir);
        void this.#reload(dir);
      }
      await Promise.all(this.#running.values());
    }
    if (!this.#closed) this.#emit({ type: 'synced' });
  }

  close(): void {
    this.#closed = true;
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }

  #reload(planDir: string): Promise<void> {
    const running = this.#running.get(planDir);
    if (running) {
      this.#again.add(planDir);
      return running;
    }
    const job = (async () => {
      do {
        this.#again.delete(planDir);
        try {
          await this.#read(planDir);
        } catch (error) {
          this.#log.warn({ plan: planDir, err: (error as Error).message }, 'reading a plan failed');
        }
      } while (this.#again.has(planDir) && !this.#closed);
    })().finally(() => this.#running.delete(planDir));
    this.#running.set(planDir, job);
    return job;
  }

  async #read(planDir: string): Promise<void> {
    const known = this.#idByDir.get(planDir);
    const id = known ?? this.#newId(planDir);
    // Reserved before the read, so two new plans of the same name never share an id.
    this.#idByDir.set(planDir, id);
    const input = await readPlanFolder(planDir, id, groupOfPlanDir(planDir));
    if (this.#closed) return;
    const empty =
      input !== null &&
      input.planFile === null &&
      input.parallelText === null &&
      input.files.length === 0;
    if (input === null || empty) {
      this.#idByDir.delete(planDir);
      if (this.#published.delete(planDir)) this.#emit({ type: 'gone', id });
      return;
    }
    this.#published.add(planDir);
    this.#emit({ type: 'plan', input });
  }

  #newId(planDir: string): string {
    const name = basename(planDir);
    const taken = new Set(this.#idByDir.values());
    if (!taken.has(name)) return name;
    const project = basename(dirname(dirname(dirname(planDir))));
    let id = `${name}@${project}`;
    for (let n = 2; taken.has(id); n++) id = `${name}@${project}-${n}`;
    return id;
  }
}
