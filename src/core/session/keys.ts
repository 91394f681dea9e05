import { folderName } from './derive.ts';

/** What the index knows of one session to place new updates. */
export interface KeyedSession {
  key: string;
  sessionId: string;
  projectDir: string | null;
  changedAt: number;
}

/**
 * Decides which session an update belongs to. One `session_id` from one
 * project folder is one session whatever the source; a second folder
 * claiming the same id gets its own key, `id@<folder>`, which is stored with
 * the session and so stays the same across restarts.
 */
export class SessionKeys {
  readonly #byKey = new Map<string, KeyedSession>();
  readonly #byId = new Map<string, Set<string>>();
  /** Keys by project folder: metric files name their folder, once per file read. */
  readonly #byDir = new Map<string, Set<string>>();

  /** Registers or updates a session (after restore, after each change). */
  put(session: KeyedSession): void {
    const previous = this.#byKey.get(session.key);
    if (previous && previous.sessionId !== session.sessionId) {
      this.#byId.get(previous.sessionId)?.delete(session.key);
    }
    if (previous?.projectDir != null && previous.projectDir !== session.projectDir) {
      unindex(this.#byDir, previous.projectDir, session.key);
    }
    this.#byKey.set(session.key, { ...session });
    index(this.#byId, session.sessionId, session.key);
    if (session.projectDir !== null) index(this.#byDir, session.projectDir, session.key);
  }

  /** Forgets a session (pruned): its key may be given out again. */
  delete(key: string): void {
    const session = this.#byKey.get(key);
    if (!session) return;
    this.#byKey.delete(key);
    unindex(this.#byId, session.sessionId, key);
    if (session.projectDir !== null) unindex(this.#byDir, session.projectDir, key);
  }

  get(key: string): KeyedSession | undefined {
    return this.#byKey.get(key);
  }

  /**
   * The key for an update naming `sessionId`, from `projectDir` when known
   * (files) or from nowhere in particular (pushes, checkpoints without a
   * working directory). Never changes the index: call `put` once applied.
   */
  resolve(sessionId: string, projectDir: string | null): string {
    const candidates = this.#candidates(sessionId);
    if (projectDir === null) {
      return newest(candidates)?.key ?? this.#free(sessionId);
    }
    // The newest run of the folder's session: older runs are history.
    const same = newest(candidates.filter((c) => c.projectDir === projectDir));
    if (same) return same.key;
    // A push or checkpoint seen before its folder is the same session.
    const unplaced = newest(candidates.filter((c) => c.projectDir === null));
    if (unplaced) return unplaced.key;
    if (candidates.length === 0) return this.#free(sessionId);
    return this.#free(`${sessionId}@${folderName(projectDir)}`);
  }

  /**
   * The key a producer's `session_id` maps to: its own key (the newest run of
   * it, `<id>-run<N>`) first, else the newest.
   */
  keyFor(sessionId: string): string | null {
    if (this.#byKey.get(sessionId)?.sessionId === sessionId) {
      const runs = this.#candidates(sessionId).filter(
        (c) => c.key === sessionId || /^-run\d+$/.test(c.key.slice(sessionId.length)),
      );
      return newest(runs)?.key ?? sessionId;
    }
    return newest(this.#candidates(sessionId))?.key ?? null;
  }

  /** The newest session of a project folder. */
  keyForProject(projectDir: string): string | null {
    let best: KeyedSession | undefined;
    for (const key of this.#byDir.get(projectDir) ?? []) {
      const s = this.#byKey.get(key);
      if (s && (!best || s.changedAt > best.changedAt)) best = s;
    }
    return best?.key ?? null;
  }

  /** A key not in use yet: `base`, else `base-2`, `base-3`, … */
  fresh(base: string): string {
    return this.#free(base);
  }

  #candidates(sessionId: string): KeyedSession[] {
    const keys = this.#byId.get(sessionId);
    if (!keys) return [];
    return [...keys]
      .map((k) => this.#byKey.get(k))
      .filter((s): s is KeyedSession => s !== undefined);
  }

  #free(base: string): string {
    if (!this.#byKey.has(base)) return base;
    for (let i = 2; ; i++) if (!this.#byKey.has(`${base}-${i}`)) return `${base}-${i}`;
  }
}

function newest(list: KeyedSession[]): KeyedSession | undefined {
  let best: KeyedSession | undefined;
  for (const s of list) if (!best || s.changedAt > best.changedAt) best = s;
  return best;
}

function index(map: Map<string, Set<string>>, name: string, key: string): void {
  let keys = map.get(name);
  if (!keys) {
    keys = new Set();
    map.set(name, keys);
  }
  keys.add(key);
}

function unindex(map: Map<string, Set<string>>, name: string, key: string): void {
  const keys = map.get(name);
  keys?.delete(key);
  if (keys?.size === 0) map.delete(name);
}
