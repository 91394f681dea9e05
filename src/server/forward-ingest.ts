import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type { Logger } from 'pino';
import type { AgentEvent, AgentInput } from '../core/agents/events.ts';
import type { MetricsFileEvent } from '../core/metrics/inputs.ts';
import type { PlanSourceEvent } from '../core/plans/types.ts';
import { folderName } from '../core/session/derive.ts';
import type { SessionFileEvent } from '../core/session/events.ts';
import {
  type ForwardAck,
  type ForwardBatch,
  type ForwardedEvent,
  forwardedEvent,
  HOST_NAME,
} from '../shared/forward.ts';
import type { SessionStore } from '../store/types.ts';

/** Where forwarded events go: the same engine entry points the local sources feed. */
export interface ForwardTargets {
  applySession(event: SessionFileEvent): void;
  applyMetrics(event: MetricsFileEvent): boolean | Promise<boolean> | undefined;
  /** The plans engine; absent: plan events are taken (acknowledged) and not kept. */
  applyPlan?(event: PlanSourceEvent): void;
  /** The plans the engine has (to drop a machine's plans removed while its forwarder was down). */
  planIds?(): string[];
  /** The agents engine (`AgentsEngine.apply`/`resetFile`); absent: agent events are not kept. */
  applyAgent?(event: AgentEvent, file: string | null): void;
  resetAgentFile?(file: string): void;
  /** Resolves once the agents engine holds its restored state (forwarded events wait for it). */
  agentsReady?(): Promise<void>;
  /**
   * Journals agent events just applied (called in the same tick): resolves
   * once they are on disk beside the agents checkpoint.
   */
  journalAgents?(entries: AgentInput[]): Promise<void>;
}

/** Forwarders whose marks are kept in memory (machines, not events: far more than a fleet). */
const MAX_MARKS_KEPT = 10_000;

const digest = (token: string) => createHash('sha256').update(token).digest();

/**
 * `serve --forwarder-tokens FILE`: one line per machine, `<host> <token>`
 * (`#` comments). A forwarder is its token's host, whatever it claims.
 * Removing a line revokes the machine: the file is read again when it
 * changes (looked at at most once a second), no restart.
 */
export class ForwarderTokens {
  readonly #path: string;
  readonly #logger: Logger;
  #entries: { host: string; digest: Buffer }[] = [];
  #mtimeMs = -1;
  #checkedAt = 0;

  constructor(path: string, logger: Logger) {
    this.#path = path;
    this.#logger = logger;
    this.#load(true);
  }

  /** The host a token belongs to, or null (unknown or revoked). */
  hostFor(token: string): string | null {
    this.#load(false);
    const presented = digest(token);
    let host: string | null = null;
    for (const entry of this.#entries) {
      if (timingSafeEqual(entry.digest, presented)) host = entry.host;
    }
    return host;
  }

  #load(first: boolean): void {
    const now = Date.now();
    if (!first && now - this.#checkedAt < 1000) return;
    this.#checkedAt = now;
    let mtimeMs: number;
    try {
      mtimeMs = statSync(this.#path).mtimeMs;
    } catch (error) {
      if (first)
        throw new Error(
          `cannot read the forwarder tokens ${this.#path}: ${(error as Error).message}`,
        );
      // A file removed revokes every machine rather than keeping stale tokens.
      this.#entries = [];
      return;
    }
    if (mtimeMs === this.#mtimeMs) return;
    this.#mtimeMs = mtimeMs;
    const entries: { host: string; digest: Buffer }[] = [];
    readFileSync(this.#path, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        const text = line.trim();
        if (text === '' || text.startsWith('#')) return;
        const [host, token, ...rest] = text.split(/\s+/);
        if (!host || !token || rest.length > 0 || !HOST_NAME.test(host) || token.length < 16) {
          // Never the line itself: it holds a token.
          this.#logger.warn(
            { line: i + 1 },
            'forwarder tokens: line skipped (want "<host> <token>", token ≥ 16 characters)',
          );
          return;
        }
        entries.push({ host, digest: digest(token) });
      });
    this.#entries = entries;
    if (!first) this.#logger.info({ machines: entries.length }, 'forwarder tokens reloaded');
  }
}

/**
 * Applies forwarded batches: each event once (a per-forwarder high-water
 * mark, kept in the store beside the tail offsets so it survives restarts
 * and replica changes), with the machine folded into paths and session ids so
 * two machines' `weather-app` stay two sessions (`weather-app@ci-1`, …).
 */
export class ForwardIngest {
  readonly #targets: ForwardTargets;
  readonly #marks: Pick<SessionStore, 'getOffset' | 'setOffset'>;
  readonly #logger: Logger;
  readonly #chains = new Map<string, Promise<unknown>>();
  /**
   * Each forwarder's high-water mark as this process last applied it: read
   * from the store once, then kept, so a batch is applied without waiting on
   * a store read first (a PostgreSQL round trip on every batch, before its
   * events reached any client). Only the writer ingests, so it is the truth
   * while this process lives. Bounded: a forwarder evicted is read again.
   */
  readonly #applied = new Map<string, number>();
  readonly tokens: ForwarderTokens | null;
  readonly #committed: (() => Promise<void>) | null;
  /** Tells forwarders this process restarted (see `ForwardAck.boot`). */
  readonly #boot = crypto.randomUUID();

  constructor(opts: {
    targets: ForwardTargets;
    marks: Pick<SessionStore, 'getOffset' | 'setOffset'>;
    logger: Logger;
    tokens?: ForwarderTokens | null;
    /** Resolves once the applied events' writes are durable (see `ServerDeps.committed`). */
    committed?: () => Promise<void>;
  }) {
    this.#committed = opts.committed ?? null;
    this.#targets = opts.targets;
    this.#marks = opts.marks;
    this.#logger = opts.logger;
    this.tokens = opts.tokens ?? null;
  }

  /** Applies a batch from `host` (already authenticated); one batch per forwarder at a time. */
  ingest(batch: ForwardBatch, host: string): Promise<ForwardAck> {
    const previous = this.#chains.get(batch.forwarder) ?? Promise.resolve();
    const next = previous.then(
      () => this.#ingest(batch, host),
      () => this.#ingest(batch, host),
    );
    this.#chains.set(batch.forwarder, next);
    const forget = () => {
      if (this.#chains.get(batch.forwarder) === next) this.#chains.delete(batch.forwarder);
    };
    next.then(forget, forget);
    return next;
  }

  async #ingest(batch: ForwardBatch, host: string): Promise<ForwardAck> {
    if (batch.events.some((e) => (e.event as { source?: unknown } | null)?.source === 'agents')) {
      // Applied before the checkpoint is restored, they would be replaced by it.
      await this.#targets.agentsReady?.();
    }
    const markPath = `forward:${batch.forwarder}`;
    const mark =
      this.#applied.get(batch.forwarder) ?? (await this.#marks.getOffset(markPath))?.offset ?? 0;
    let acked = mark;
    let applied = 0;
    let duplicates = 0;
    let rejected = 0;
    const agentEntries: AgentInput[] = [];
    const writes: Promise<void>[] = [];
    for (const { seq, event } of batch.events) {
      if (seq <= acked) {
        duplicates++;
        continue;
      }
      if (seq !== acked + 1 && acked > 0) {
        this.#logger.warn(
          { host, from: acked, to: seq },
          'forward: events missing (outbox dropped them)',
        );
      }
      acked = seq;
      const parsed = forwardedEvent.safeParse(event);
      if (!parsed.success) {
        rejected++;
        this.#logger.warn(
          { host, seq, issue: parsed.error.issues[0]?.message },
          'forward: event rejected',
        );
        continue;
      }
      // Engines take each event in order as it is handed over; only their stores' writes are
      // awaited, together: one event's write must not hold up the next one's apply.
      const keyed = onHost(parsed.data, host);
      writes.push(this.#apply(keyed, host));
      applied++;
      if (keyed.source === 'agents') agentEntries.push(journalEntry(keyed));
    }
    // Applied: a resend from here on is a duplicate, whatever happens to the writes below.
    this.#remember(batch.forwarder, acked);
    // Journaled in the tick they were applied, so an agents checkpoint either holds them or not.
    if (agentEntries.length > 0 && this.#targets.journalAgents) {
      writes.push(this.#targets.journalAgents(agentEntries));
    }
    await Promise.all(writes);
    if (batch.dropped > 0 && applied > 0) {
      this.#logger.warn(
        { host, dropped: batch.dropped },
        'forward: the forwarder’s outbox overflowed',
      );
    }
    // The mark is written once the events' writes are durable, so it never runs ahead of them;
    // its commit and a shared bus's log are then waited for together (the flush takes the
    // mark, queued in this tick), not one after the other: a third of a batch's time before.
    const marked =
      acked > mark
        ? this.#marks.setOffset({ path: markPath, offset: acked, ino: 0, size: 0 })
        : undefined;
    await Promise.all([marked, this.#committed?.()]);
    return { acked, applied, duplicates, rejected, host, boot: this.#boot };
  }

  #remember(forwarder: string, acked: number): void {
    this.#applied.delete(forwarder);
    this.#applied.set(forwarder, acked);
    if (this.#applied.size > MAX_MARKS_KEPT) {
      const oldest = this.#applied.keys().next().value;
      if (oldest !== undefined) this.#applied.delete(oldest);
    }
  }

  /** `ids`: every plan `host` has (already `<id>@host`); its other plans on this server go. */
  #dropStalePlans(ids: string[], host: string): void {
    const { applyPlan, planIds } = this.#targets;
    if (!applyPlan || !planIds) return;
    const keep = new Set(ids);
    for (const id of planIds()) {
      if (id.includes('@') && hostOfId(id) === host && !keep.has(id)) {
        applyPlan({ type: 'gone', id });
      }
    }
    applyPlan({ type: 'synced' });
  }

  async #apply(event: ForwardedEvent, host: string): Promise<void> {
    if (event.source === 'session') {
      this.#targets.applySession(event.event as SessionFileEvent);
      return;
    }
    if (event.source === 'plans') {
      const e = event.event;
      if (e.type === 'synced' && e.ids !== undefined) {
        this.#dropStalePlans(e.ids, host);
        return;
      }
      this.#targets.applyPlan?.(e as PlanSourceEvent);
      return;
    }
    if (event.source === 'agents') {
      const e = event.event;
      if (e.kind === 'reset') this.#targets.resetAgentFile?.(e.file);
      else this.#targets.applyAgent?.(e.event as AgentEvent, e.file);
      return;
    }
    const metrics = event.event as MetricsFileEvent;
    if (metrics.kind === 'jsonl') {
      // Forwarded lines are durable at the forwarder until acknowledged: nothing to persist here.
      await this.#targets.applyMetrics({
        ...metrics,
        batch: { ...metrics.batch, persist: async () => {} },
      });
    } else {
      await this.#targets.applyMetrics(metrics);
    }
  }
}

/** A plan's machine: what follows its id's last `@` (host names hold none). */
const hostOfId = (id: string) => id.slice(id.lastIndexOf('@') + 1);

/** A path on another machine, kept apart from this one's and every other machine's. */
export function hostPath(host: string, path: string): string {
  return `/@${host}${path.startsWith('/') ? '' : '/'}${path}`;
}

function hostDir(host: string, dir: string | null): string | null {
  return dir === null ? null : hostPath(host, dir);
}

/** The event as this server keys it: paths under `/@host`, session ids `<id>@host`. */
function onHost(forwarded: ForwardedEvent, host: string): ForwardedEvent {
  const id = (sessionId: string) => `${sessionId}@${host}`;
  if (forwarded.source === 'session') {
    const e = forwarded.event;
    if (e.kind === 'gone')
      return { source: 'session', event: { kind: 'gone', path: hostPath(host, e.path) } };
    if (e.kind === 'problem') {
      return {
        source: 'session',
        event: {
          kind: 'problem',
          value: {
            ...e.value,
            path: hostPath(host, e.value.path),
            projectDir: hostDir(host, e.value.projectDir),
          },
        },
      };
    }
    const v = e.value;
    const own = v.doc.sessionId ?? folderName(v.projectDir ?? v.path);
    return {
      source: 'session',
      event: {
        kind: 'document',
        value: {
          ...v,
          path: hostPath(host, v.path),
          projectDir: hostDir(host, v.projectDir),
          doc: { ...v.doc, sessionId: id(own) },
          host,
        },
      },
    };
  }
  if (forwarded.source === 'plans' || forwarded.source === 'agents') {
    return plansAndAgentsOnHost(forwarded, host);
  }
  const e = forwarded.event;
  switch (e.kind) {
    case 'jsonl':
      return {
        source: 'metrics',
        event: {
          ...e,
          batch: {
            ...e.batch,
            sessionId: id(e.batch.sessionId),
            path: hostPath(host, e.batch.path),
          },
        },
      };
    case 'jsonl_reset':
      return { source: 'metrics', event: { ...e, sessionId: id(e.sessionId) } };
    case 'test_results':
      return {
        source: 'metrics',
        event: { ...e, file: { ...e.file, projectDir: hostPath(host, e.file.projectDir) } },
      };
    case 'decisions':
      return {
        source: 'metrics',
        event: { ...e, file: { ...e.file, projectDir: hostPath(host, e.file.projectDir) } },
      };
    case 'problem':
      return {
        source: 'metrics',
        event: {
          ...e,
          problem: {
            ...e.problem,
            sessionId: e.problem.sessionId === null ? null : id(e.problem.sessionId),
            projectDir: hostDir(host, e.problem.projectDir),
            path: hostPath(host, e.problem.path),
          },
        },
      };
  }
}

type PlansOrAgents = Extract<ForwardedEvent, { source: 'plans' | 'agents' }>;

/**
 * Plans and agent sessions as this server keys them: plan ids and agent
 * session ids `<id>@host` (two machines' `DEMO_PLAN` or session stay two),
 * plan folders, transcripts and working directories under `/@host` (so an
 * agent's build phase is found in that machine's forwarded builds).
 */
function plansAndAgentsOnHost(forwarded: PlansOrAgents, host: string): PlansOrAgents {
  const id = (own: string) => `${own}@${host}`;
  if (forwarded.source === 'plans') {
    const e = forwarded.event;
    if (e.type === 'synced') {
      const ids = e.ids?.map(id);
      return { source: 'plans', event: ids ? { type: 'synced', ids } : { type: 'synced' } };
    }
    if (e.type === 'gone') return { source: 'plans', event: { type: 'gone', id: id(e.id) } };
    return {
      source: 'plans',
      event: {
        type: 'plan',
        input: { ...e.input, id: id(e.input.id), path: hostPath(host, e.input.path) },
      },
    };
  }
  const e = forwarded.event;
  if (e.kind === 'reset') {
    return { source: 'agents', event: { kind: 'reset', file: hostPath(host, e.file) } };
  }
  const event = { ...e.event, sessionId: id(e.event.sessionId) };
  if (event.type === 'meta' && event.cwd !== undefined) event.cwd = hostPath(host, event.cwd);
  return {
    source: 'agents',
    event: { kind: 'event', file: e.file === null ? null : hostPath(host, e.file), event },
  };
}

function journalEntry(forwarded: ForwardedEvent): AgentInput {
  const e = forwarded.event as
    | { kind: 'reset'; file: string }
    | { kind: 'event'; file: string | null; event: AgentEvent };
  return e.kind === 'reset' ? { reset: e.file } : { file: e.file, event: e.event };
}
