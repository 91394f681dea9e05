import { resolve } from 'node:path';
import type { Logger } from 'pino';
import { parseCheckpoint } from '../core/session/checkpoint.ts';
import {
  applyUpdate,
  folderName,
  type SessionRecord,
  withWarnings,
} from '../core/session/derive.ts';
import { type PhaseDocument, parsePhaseDocument } from '../core/session/document.ts';
import type { FileDocument, FileProblem, SessionFileEvent } from '../core/session/events.ts';
import { SessionKeys } from '../core/session/keys.ts';
import { endOf, startsNewRun } from '../core/session/run.ts';
import { buildTimeline } from '../core/session/timeline.ts';
import { hostOfPath } from '../shared/forward.ts';
import type {
  SessionDetail,
  SessionSource,
  SessionState,
  SessionStatus,
  SessionWarning,
} from '../shared/model.ts';
import { topic } from '../shared/topics.ts';
import type { SessionStore } from '../store/types.ts';
import type { LogBook } from './logbook.ts';
import { SessionsTopic } from './sessions-topic.ts';
import type { Hub } from './types.ts';

export type PushResult =
  | { ok: true; key: string; sessionId: string; changed: boolean }
  | { ok: false; error: string; status: 400 | 409 };

/** A checkpoint newer than the live data by more than this replaces it on screen. */
export const LIVE_STALE_MS = 5 * 60_000;
/** Phase changes kept in memory per session (the store keeps them all). */
const MAX_TRANSITIONS = 1000;
/** A build that pushed within this window is "pushing": an update without `session_id` may be its. */
export const PUSHING_MS = 30 * 60_000;
/** How long a pending end (Feedback 7/8 completed) waits for a next phase before the build has ended. */
export const END_SETTLE_MS = 5 * 60_000;

interface Input {
  doc: PhaseDocument;
  raw: unknown;
  at: number;
  source: SessionSource;
  /** The machine it came from; absent: the session's own, else the server's. */
  host?: string;
}

interface Entry {
  record: SessionRecord;
  document: unknown;
  live: Input | null;
  checkpoint: Input | null;
  /** Problems by the file (or folder) that has them. */
  warnings: Map<string, SessionWarning>;
  status: SessionStatus;
}

/**
 * Turns phase files, checkpoints and pushes into the `sessions` and
 * `session:<key>` topics, with history in the store and a log line per phase
 * change or warning. Live data (file, push) wins over a checkpoint unless the
 * checkpoint is clearly newer.
 */
export class SessionEngine {
  readonly #hub: Hub;
  readonly #store: SessionStore;
  readonly #logs: LogBook;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry>();
  readonly #keys = new SessionKeys();
  /** Which session each phase file / checkpoint folder last fed. */
  readonly #pathKeys = new Map<string, string>();
  /** Problems of files no session is known for yet, logged once each. */
  readonly #orphanProblems = new Map<string, string>();
  readonly #listeners = new Set<(key: string) => void>();

  readonly #settleMs: number;
  /** Pending ends waiting to settle, by session key. */
  readonly #settles = new Map<string, ReturnType<typeof setTimeout>>();
  /** When each session last received a push (for pushes without `session_id`). */
  readonly #pushedAt = new Map<string, number>();
  readonly #host: string | undefined;
  /**
   * Keys of the active sessions: a push without `session_id` looks among
   * these, not among every session ever seen (10,000 finished ones cost it
   * a walk of them all on every push).
   */
  readonly #active = new Set<string>();
  readonly #topic: SessionsTopic;

  constructor(opts: {
    hub: Hub;
    store: SessionStore;
    logs: LogBook;
    logger: Logger;
    now?: () => number;
    /** How long a possible end waits for a next phase (default `END_SETTLE_MS`). */
    settleMs?: number;
    /** The server's own machine name: the `host` of local sessions (absent: none is set). */
    host?: string;
  }) {
    this.#host = opts.host;
    this.#settleMs = opts.settleMs ?? END_SETTLE_MS;
    this.#hub = opts.hub;
    this.#store = opts.store;
    this.#logs = opts.logs;
    this.#log = opts.logger;
    this.#now = opts.now ?? Date.now;
    this.#topic = new SessionsTopic(this.#hub, () => this.#statuses());
  }

  /** Loads stored sessions and their phase history, so past sessions show after a restart (logs load when read). */
  async restore(): Promise<void> {
    const statuses = await this.#store.listSessions();
    for (const stored of statuses) {
      const [full, transitions] = await Promise.all([
        this.#store.getSession(stored.id),
        this.#store.transitions(stored.id),
      ]);
      const status = withHost(full?.status ?? stored, this.#host);
      const document = full?.document ?? null;
      const input = restoredInput(status, document);
      const entry: Entry = {
        record: {
          status: { ...status, warnings: [] },
          transitions: transitions.slice(-MAX_TRANSITIONS),
        },
        document,
        live: input?.source === 'checkpoint' ? null : input,
        checkpoint: input?.source === 'checkpoint' ? input : null,
        warnings: new Map(),
        status: { ...status, warnings: [] },
      };
      this.#entries.set(status.id, entry);
      if (status.state === 'active') this.#active.add(status.id);
      this.#keys.put({
        key: status.id,
        sessionId: status.sessionId,
        projectDir: status.projectDir,
        changedAt: status.changedAt,
      });
      this.#hub.set(topic('session', status.id), this.#detail(entry));
      const shown = entry.live ?? entry.checkpoint;
      if (shown && status.state === 'active' && endOf(shown.doc, shown.source) === 'pending') {
        this.#scheduleSettle(
          status.id,
          Math.max(0, status.changedAt + this.#settleMs - this.#now()),
        );
      }
    }
    this.#publishList();
  }

  /** Applies what the session sources read (`SessionFilesHandler`): a document, a lasting problem, a file gone. */
  apply(event: SessionFileEvent): void {
    if (event.kind === 'document') this.#fileDocument(event.value);
    else if (event.kind === 'problem') this.#fileProblem(event.value);
    else this.#fileGone(event.path);
  }

  /**
   * `POST /api/phase-update`: the body is a current-phase.json document. Most
   * of the template's documents carry no `session_id`: such a push belongs to
   * the build that is pushing (see `#pushTarget`).
   */
  ingestPush(body: unknown, receivedAt: number): PushResult {
    const parsed = parsePhaseDocument(body);
    if (!parsed.ok) {
      return { ok: false, status: 400, error: `invalid phase update: ${parsed.message}` };
    }
    let { doc } = parsed;
    let key: string;
    if (doc.sessionId === null) {
      const target = this.#pushTarget(doc, receivedAt);
      if (!target.ok) return target;
      key = target.key;
      doc = { ...doc, sessionId: this.#entries.get(key)?.status.sessionId ?? key };
    } else {
      key = this.#keys.resolve(doc.sessionId, null);
    }
    const input: Input = { doc, raw: body, at: receivedAt, source: 'push' };
    const applied = this.#applyRun(key, null, input);
    this.#pushedAt.set(applied.key, receivedAt);
    return {
      ok: true,
      key: applied.key,
      sessionId: doc.sessionId ?? key,
      changed: applied.changed,
    };
  }

  /**
   * The session a push without `session_id` belongs to: the one active build
   * that pushed in the last `PUSHING_MS`; with several, the one furthest along
   * whose completed phases this document continues; with none pushing, the
   * only active build.
   * Otherwise it is refused (409) with the candidates named.
   */
  #pushTarget(
    doc: PhaseDocument,
    at: number,
  ): { ok: true; key: string } | { ok: false; error: string; status: 409 } {
    const active: [string, Entry][] = [];
    for (const key of this.#active) {
      const entry = this.#entries.get(key);
      if (entry) active.push([key, entry]);
    }
    const pushing = active.filter(
      ([key]) => at - (this.#pushedAt.get(key) ?? -Infinity) <= PUSHING_MS,
    );
    let candidates = pushing.length > 0 ? pushing : active;
    if (candidates.length > 1) {
      const done = new Set(doc.phasesCompleted.map((p) => p.toLowerCase()));
      const continued = candidates.filter(([, e]) =>
        e.status.phasesCompleted.every((p) => done.has(p.toLowerCase())),
      );
      // The build furthest along among those the document continues.
      const most = Math.max(-1, ...continued.map(([, e]) => e.status.phasesCompleted.length));
      candidates = continued.filter(([, e]) => e.status.phasesCompleted.length === most);
    }
    if (candidates.length === 1) return { ok: true, key: (candidates[0] as [string, Entry])[0] };
    const names = (pushing.length > 0 ? pushing : active).map(([key]) => key);
    return {
      ok: false,
      status: 409,
      error:
        names.length === 0
          ? 'phase update without "session_id" and no build is running: include "session_id" (the project folder name)'
          : `phase update without "session_id" and several builds could be its (${names.join(', ')}): include "session_id"`,
    };
  }

  /** Live sessions first, then the most recently changed. */
  list(filter?: { state?: SessionState }): SessionStatus[] {
    const out: SessionStatus[] = [];
    for (const entry of this.#entries.values()) {
      if (!filter?.state || entry.status.state === filter.state) out.push(entry.status);
    }
    return out.sort(
      (a, b) =>
        Number(b.state === 'active') - Number(a.state === 'active') || b.changedAt - a.changedAt,
    );
  }

  get(key: string): SessionDetail | null {
    const entry = this.#entries.get(key);
    return entry ? this.#detail(entry) : null;
  }

  keyFor(sessionId: string): string | null {
    return this.#keys.keyFor(sessionId);
  }

  keyForProject(projectDir: string): string | null {
    return this.#keys.keyForProject(resolve(projectDir));
  }

  /** Called with a session's key after each change to it; returns the unsubscribe function. */
  onChange(listener: (key: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Drops from memory and from the hub the sessions the store's retention
   * deletes: finished sessions whose last change is before `before` (epoch
   * ms). A session still active stays, however old. Returns their keys, for
   * the engines that keep per-session state too. Call it before the store's
   * `prune`, so that lines not yet saved are dropped rather than saved after it.
   */
  prune(before: number): string[] {
    const keys: string[] = [];
    for (const [key, entry] of this.#entries) {
      if (entry.status.changedAt < before && entry.status.state !== 'active') keys.push(key);
    }
    this.forget(keys);
    return keys;
  }

  /** Removes sessions: their entry, `session:<key>` topic, log and place in the `sessions` topic. */
  forget(keys: readonly string[]): void {
    const removed = new Map<string, undefined>();
    for (const key of keys) {
      if (!this.#entries.delete(key)) continue;
      removed.set(key, undefined);
      this.#active.delete(key);
      this.#keys.delete(key);
      this.#cancelSettle(key);
      this.#pushedAt.delete(key);
      this.#hub.remove(topic('session', key));
      this.#logs.forget(key);
    }
    if (removed.size === 0) return;
    // One pass over the paths for the whole batch, not one per session forgotten.
    for (const [path, owner] of this.#pathKeys) if (removed.has(owner)) this.#pathKeys.delete(path);
    this.#publishList(removed);
  }

  /** Cancels pending end settlements. */
  close(): void {
    for (const timer of this.#settles.values()) clearTimeout(timer);
    this.#settles.clear();
    this.#topic.close();
  }

  #fileDocument(d: FileDocument): void {
    const projectDir = d.projectDir === null ? null : resolve(d.projectDir);
    const sessionId = d.doc.sessionId ?? (projectDir ? folderName(projectDir) : folderName(d.path));
    const known = this.#pathKeys.get(d.path);
    const key =
      known !== undefined && this.#keys.get(known)?.sessionId === sessionId
        ? known
        : this.#keys.resolve(sessionId, projectDir);
    this.#orphanProblems.delete(d.path);
    const entry = this.#entries.get(key);
    const cleared = entry?.warnings.delete(d.path) ?? false;
    const input: Input = { doc: d.doc, raw: d.raw, at: d.at, source: d.source };
    const host = d.host ?? this.#host;
    if (host !== undefined) input.host = host;
    const applied = this.#applyRun(key, projectDir, input);
    this.#pathKeys.set(d.path, applied.key);
    if (cleared && !applied.changed) this.#publish(key, this.#entries.get(key) as Entry);
  }

  /**
   * Applies an input to its session, or to a new run of it when the input
   * starts a new build in the same folder (`startsNewRun`): the ended run
   * keeps its key and stays viewable, the new one gets `<key>-run<N>`.
   */
  #applyRun(
    key: string,
    projectDir: string | null,
    input: Input,
  ): { key: string; changed: boolean } {
    const existing = this.#entries.get(key);
    if (existing && startsNewRun(existing.status, input.doc)) {
      const run = (existing.status.run ?? 1) + 1;
      const base =
        existing.status.run && existing.status.run > 1 ? key.replace(/-run\d+$/, '') : key;
      const next = this.#keys.fresh(`${base}-run${run}`);
      this.#logs.append(key, {
        at: Math.round(input.at),
        level: 'info',
        text: `A new build started in this folder: run ${run} is ${next}`,
      });
      const host = input.host ?? existing.status.host;
      return {
        key: next,
        changed: this.#apply(
          next,
          projectDir ?? existing.status.projectDir,
          host === undefined ? input : { ...input, host },
          run,
        ),
      };
    }
    return { key, changed: this.#apply(key, projectDir, input) };
  }

  #fileProblem(p: FileProblem): void {
    const key = this.#pathKeys.get(p.path);
    const entry = key === undefined ? undefined : this.#entries.get(key);
    if (!entry || key === undefined) {
      const signature = p.code;
      if (this.#orphanProblems.get(p.path) === signature) return;
      this.#orphanProblems.set(p.path, signature);
      this.#log.warn({ path: p.path, code: p.code }, p.message);
      return;
    }
    const previous = entry.warnings.get(p.path);
    // One ongoing problem per file and code: the halves of a write split by a
    // pause fail with other parse messages, but viewers are told once.
    if (previous && previous.code === p.code) return;
    const at = this.#now();
    entry.warnings.set(p.path, { code: p.code, message: p.message, at });
    this.#log.warn({ session: key, path: p.path, code: p.code }, p.message);
    this.#logs.append(key, {
      at,
      level: 'warn',
      text: `${p.message} (showing the last good state)`,
    });
    this.#publish(key, entry);
  }

  #fileGone(path: string): void {
    const key = this.#pathKeys.get(path);
    this.#orphanProblems.delete(path);
    if (key === undefined) return;
    const entry = this.#entries.get(key);
    if (entry?.warnings.delete(path)) this.#publish(key, entry);
  }

  /** Records an input and re-derives the session from whichever input should be shown. */
  #apply(
    key: string,
    projectDir: string | null,
    input: Input,
    run?: number,
    settled = false,
  ): boolean {
    const existing = this.#entries.get(key);
    const live = input.source === 'checkpoint' ? (existing?.live ?? null) : input;
    const checkpoint = input.source === 'checkpoint' ? input : (existing?.checkpoint ?? null);
    const shown =
      live && (!checkpoint || checkpoint.at <= live.at + LIVE_STALE_MS) ? live : checkpoint;
    if (existing) {
      existing.live = live;
      existing.checkpoint = checkpoint;
    }
    if (shown !== input) return false;
    if (!settled) this.#cancelSettle(key);
    const host = input.host ?? existing?.status.host ?? this.#host;
    const result = applyUpdate(existing?.record ?? null, {
      ...(host === undefined ? {} : { host }),
      key,
      doc: input.doc,
      source: input.source,
      projectDir: projectDir ?? existing?.status.projectDir ?? null,
      at: input.at,
      ...(run === undefined ? {} : { run }),
      settled,
    });
    if (result.pendingEnd) this.#scheduleSettle(key, this.#settleMs);
    if (!result.changed) return false;
    const record: SessionRecord =
      result.record.transitions.length > MAX_TRANSITIONS
        ? { ...result.record, transitions: result.record.transitions.slice(-MAX_TRANSITIONS) }
        : result.record;
    const entry: Entry = existing ?? {
      record,
      document: input.raw,
      live,
      checkpoint,
      warnings: new Map(),
      status: record.status,
    };
    const before = existing?.status ?? null;
    entry.record = record;
    entry.document = input.raw;
    this.#entries.set(key, entry);
    const { status } = record;
    this.#keys.put({
      key,
      sessionId: status.sessionId,
      projectDir: status.projectDir,
      changedAt: status.changedAt,
    });
    for (const t of result.transitions ?? []) {
      void this.#store.addTransition(t).catch((e: unknown) => this.#storeFailed(e));
      const number = t.phaseNumber ? ` (${t.phaseNumber})` : '';
      const text =
        t.from === null
          ? `Session ${status.sessionId}: ${t.to}${number}, ${t.status}`
          : `Phase ${t.from} → ${t.to}${number}, ${t.status}`;
      this.#logs.append(key, { at: t.at, level: 'info', text });
    }
    if (before && before.state !== status.state && status.state !== 'active') {
      this.#logs.append(key, {
        at: status.changedAt,
        level: status.state === 'failed' ? 'error' : 'info',
        text: `Session ${status.state}: ${status.status}`,
      });
    }
    this.#publish(key, entry);
    return true;
  }

  #scheduleSettle(key: string, ms: number): void {
    this.#cancelSettle(key);
    const timer = setTimeout(() => {
      this.#settles.delete(key);
      const entry = this.#entries.get(key);
      const shown = entry?.live ?? entry?.checkpoint;
      if (!entry || !shown || entry.status.state !== 'active') return;
      if (endOf(shown.doc, shown.source) !== 'pending') return;
      this.#apply(key, null, shown, undefined, true);
    }, ms);
    timer.unref?.();
    this.#settles.set(key, timer);
  }

  #cancelSettle(key: string): void {
    const timer = this.#settles.get(key);
    if (timer !== undefined) clearTimeout(timer);
    this.#settles.delete(key);
  }

  #publish(key: string, entry: Entry): void {
    entry.status = withWarnings(entry.record.status, [...entry.warnings.values()]);
    if (entry.status.state === 'active') this.#active.add(key);
    else this.#active.delete(key);
    void this.#store
      .saveSession(entry.status, entry.document)
      .catch((e: unknown) => this.#storeFailed(e));
    this.#hub.set(topic('session', key), this.#detail(entry));
    this.#publishList(new Map([[key, entry.status]]));
    for (const listener of this.#listeners) {
      try {
        listener(key);
      } catch (error) {
        this.#log.error(
          { err: (error as Error)?.message, session: key },
          'session change listener failed',
        );
      }
    }
  }

  /**
   * The `sessions` topic: whole (after a restore), or only the entries that
   * changed (`undefined`: removed), so a change costs its entry and not the
   * list (every phase file of a 20,000-folder start rebuilt and diffed it).
   */
  #publishList(changed?: ReadonlyMap<string, SessionStatus | undefined>): void {
    if (changed) this.#topic.changed(changed);
    else this.#topic.publishAll();
  }

  *#statuses(): Generator<readonly [string, SessionStatus]> {
    for (const [key, entry] of this.#entries) yield [key, entry.status];
  }

  #detail(entry: Entry): SessionDetail {
    const { status } = entry;
    return {
      status,
      timeline: buildTimeline(entry.record.transitions, status.state, status.changedAt),
    };
  }

  #storeFailed(error: unknown): void {
    this.#log.error({ err: (error as Error)?.message }, 'saving session history failed');
  }
}

/** A stored row from before `host` existed: forwarded ones are under `/@host/`, the rest local. */
function withHost(status: SessionStatus, local: string | undefined): SessionStatus {
  if (status.host !== undefined) return status;
  const host = hostOfPath(status.projectDir) ?? local;
  return host === undefined ? status : { ...status, host };
}

/** The input a stored session was derived from, so live-versus-checkpoint holds after a restart. */
function restoredInput(status: SessionStatus, document: unknown): Input | null {
  if (status.source === 'checkpoint') {
    const raw = (document ?? {}) as { state?: unknown; progress?: unknown; complete?: unknown };
    const parsed = parseCheckpoint({
      folderId: status.sessionId,
      state: raw.state,
      progress: raw.progress ?? null,
      complete: raw.complete === true,
    });
    return parsed.ok
      ? { doc: parsed.doc, raw: document, at: status.changedAt, source: 'checkpoint' }
      : null;
  }
  const parsed = parsePhaseDocument(document);
  if (!parsed.ok) return null;
  const doc = parsed.doc.sessionId ? parsed.doc : { ...parsed.doc, sessionId: status.sessionId };
  return { doc, raw: document, at: status.changedAt, source: status.source };
}
