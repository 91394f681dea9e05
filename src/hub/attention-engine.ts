import type { Logger } from 'pino';
import {
  type AgentFacts,
  type AttentionThresholds,
  alertId,
  DEFAULT_THRESHOLDS,
  evaluate,
  type Finding,
  gatherFacts,
} from '../core/attention/index.ts';
import type { Alert, AttentionData } from '../shared/attention.ts';
import type { Analytics, SessionMetrics } from '../shared/metrics.ts';
import type { LogLine, SessionDetail } from '../shared/model.ts';
import type { DeltaMessage } from '../shared/protocol.ts';
import { parseTopic, topic } from '../shared/topics.ts';
import type { AlertStore } from '../store/alert-store.ts';
import type { Hub } from './types.ts';

/** Conditions that began this long before the engine started are history, not news. */
const STALE_MS = 86_400_000;

export interface AttentionEngineOptions {
  hub: Hub;
  store: AlertStore;
  logger: Logger;
  /** The thresholds of a session's project (default: the built-in ones). */
  thresholdsFor?: (session: SessionDetail['status']) => AttentionThresholds;
  now?: () => number;
}

/** What the engine keeps of one session between evaluations. */
interface Tracked {
  detail: SessionDetail;
  lastLogAt: number | null;
  phase: string;
  statuses: { status: string; at: number }[];
  agent: AgentFacts | null;
}

/**
 * Applies the attention rules to every session as its topics change, and on
 * time (each evaluation says when a time-based rule could next fire; one
 * timer waits for the earliest). Reads only hub topics — `session:<id>`,
 * `metrics:<id>`, `logs:<id>`, `analytics` — so it depends on no source or
 * engine. Publishes the open alerts on `attention` and stores every alert and
 * what happened to it.
 */
export class AttentionEngine {
  readonly #hub: Hub;
  readonly #store: AlertStore;
  readonly #log: Logger;
  readonly #thresholdsFor: (s: SessionDetail['status']) => AttentionThresholds;
  readonly #now: () => number;
  readonly #startedAt: number;
  readonly #sessions = new Map<string, Tracked>();
  /** Open alerts (not resolved), by id: what the topic carries. */
  readonly #open = new Map<string, Alert>();
  /** Ids of the open alerts, by session. */
  readonly #openBySession = new Map<string, Set<string>>();
  /** Alerts set or dropped since the topic was last published. */
  readonly #changed = new Set<string>();
  readonly #wakes = new Map<string, number>();
  readonly #dirty = new Set<string>();
  readonly #raisedListeners = new Set<(alert: Alert) => void>();
  /** Writes and look-ups in flight, so `idle()` can wait for them. */
  #pending: Promise<unknown> = Promise.resolve();
  #flushScheduled = false;
  #timer: NodeJS.Timeout | null = null;
  #timerAt: number | null = null;
  #unsubscribe: (() => void) | null = null;
  #closed = false;

  constructor(opts: AttentionEngineOptions) {
    this.#hub = opts.hub;
    this.#store = opts.store;
    this.#log = opts.logger;
    this.#thresholdsFor = opts.thresholdsFor ?? (() => DEFAULT_THRESHOLDS);
    this.#now = opts.now ?? Date.now;
    this.#startedAt = this.#now();
  }

  /** Loads the open alerts, reads every session the hub holds, and follows the hub from now on. */
  async start(): Promise<void> {
    for (const alert of await this.#store.alerts({ open: true, limit: 10_000 })) {
      this.#putOpen(alert);
    }
    this.#publishAll();
    this.#usual =
      (this.#hub.get(topic('analytics'))?.data as Analytics | undefined)?.avgPhaseDurationMs ?? {};
    this.#unsubscribe = this.#hub.fanout.subscribeAll((delta) => this.#onDelta(delta));
    for (const name of this.#hub.topics()) {
      const parsed = parseTopic(name);
      if (parsed?.kind === 'session' && parsed.id) this.#touch(parsed.id);
      if (parsed?.kind === 'logs' && parsed.id)
        this.#noteLogs(parsed.id, this.#hub.get(name)?.data);
    }
    this.#scheduleFlush();
  }

  /** Called with every alert raised (a new episode), after it is stored. */
  onRaised(listener: (alert: Alert) => void): () => void {
    this.#raisedListeners.add(listener);
    return () => this.#raisedListeners.delete(listener);
  }

  /**
   * Agent facts (waiting for the user, recent tool calls) for a session, from
   * an agents engine; null to go back to what the session's metrics show.
   */
  setAgentFacts(sessionId: string, facts: AgentFacts | null): void {
    const tracked = this.#sessions.get(sessionId);
    if (tracked) tracked.agent = facts;
    this.#touch(sessionId);
  }

  /** The open alerts (resolved ones are in the store). */
  open(): Alert[] {
    return [...this.#open.values()];
  }

  /** A person saw it: it leaves the queue (and stays in history). */
  async acknowledge(id: string, by: string | null = null): Promise<Alert | null> {
    const now = this.#now();
    return this.#act(id, (a) => ({ ...a, acknowledgedAt: now }), {
      kind: 'acknowledged',
      at: now,
      detail: by,
      until: null,
    });
  }

  /** Out of the queue until `until`, then back if it still holds. */
  async snooze(id: string, until: number, by: string | null = null): Promise<Alert | null> {
    const now = this.#now();
    return this.#act(id, (a) => ({ ...a, snoozedUntil: until }), {
      kind: 'snoozed',
      at: now,
      detail: by,
      until,
    });
  }

  /** Resolves once the writes and look-ups started so far are done (tests, shutdown). */
  async idle(): Promise<void> {
    for (;;) {
      const pending = this.#pending;
      await pending;
      if (pending === this.#pending && !this.#flushScheduled) return;
      if (this.#flushScheduled) await new Promise((r) => setImmediate(r));
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#unsubscribe?.();
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#pending;
  }

  async #act(
    id: string,
    change: (a: Alert) => Alert,
    event: {
      kind: 'acknowledged' | 'snoozed';
      at: number;
      detail: string | null;
      until: number | null;
    },
  ): Promise<Alert | null> {
    await this.#pending;
    const current = this.#open.get(id) ?? (await this.#store.alert(id));
    if (!current) return null;
    const next = change(current);
    if (this.#open.has(id)) this.#putOpen(next);
    await this.#store.saveAlert(next);
    await this.#store.addAlertEvent({ alertId: id, sessionId: next.sessionId, ...event });
    this.#publish();
    return next;
  }

  #onDelta(delta: DeltaMessage): void {
    const parsed = parseTopic(delta.topic);
    if (!parsed) return;
    if (parsed.kind === 'analytics') {
      this.#usualChanged();
      return;
    }
    if (!parsed.id) return;
    if (parsed.kind === 'logs' && delta.op === 'append')
      this.#noteLogs(parsed.id, { lines: delta.items });
    if (parsed.kind === 'session' || parsed.kind === 'metrics' || parsed.kind === 'logs') {
      this.#touch(parsed.id);
    }
  }

  /**
   * The analytics changed: a session's evaluation reads only its current
   * phase's usual duration, so only sessions in a phase whose usual duration
   * changed are evaluated again (not all 10,000 on every recompute).
   */
  #usualChanged(): void {
    const analytics = this.#hub.get(topic('analytics'))?.data as Analytics | undefined;
    const usual = analytics?.avgPhaseDurationMs ?? {};
    const changed = new Set<string>();
    for (const phase of Object.keys(usual))
      if (usual[phase] !== this.#usual[phase]) changed.add(phase);
    for (const phase of Object.keys(this.#usual)) if (!(phase in usual)) changed.add(phase);
    this.#usual = usual;
    if (changed.size === 0) return;
    for (const [id, tracked] of this.#sessions) {
      if (changed.has(tracked.detail.status.currentPhase)) this.#dirty.add(id);
    }
    this.#scheduleFlush();
  }

  /** Usual phase durations the sessions were last evaluated against. */
  #usual: Readonly<Record<string, number>> = {};

  #noteLogs(id: string, data: unknown): void {
    const lines = (data as { lines?: LogLine[] } | undefined)?.lines;
    const at = lines?.at(-1)?.at;
    if (typeof at !== 'number') return;
    const tracked = this.#sessions.get(id);
    if (tracked) tracked.lastLogAt = Math.max(tracked.lastLogAt ?? 0, at);
    else this.#earlyLogs.set(id, at);
  }

  /** Log times seen before the session's status (a tail can be read first). */
  readonly #earlyLogs = new Map<string, number>();

  #touch(id: string): void {
    this.#dirty.add(id);
    this.#scheduleFlush();
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled || this.#closed) return;
    this.#flushScheduled = true;
    // One evaluation per session per turn, however many topics of it changed.
    setImmediate(() => {
      this.#flushScheduled = false;
      this.#flush();
    });
  }

  #flush(): void {
    if (this.#closed) return;
    const now = this.#now();
    const ids = [...this.#dirty];
    this.#dirty.clear();
    for (const id of ids) this.#evaluate(id, now);
    this.#arm(now);
  }

  #evaluate(id: string, now: number): void {
    const detail = this.#hub.get(topic('session', id))?.data as SessionDetail | null | undefined;
    if (!detail) {
      this.#sessions.delete(id);
      this.#wakes.delete(id);
      this.#apply(id, [], now);
      return;
    }
    const tracked = this.#track(id, detail);
    const metrics = (this.#hub.get(topic('metrics', id))?.data ?? null) as SessionMetrics | null;
    const analytics = this.#hub.get(topic('analytics'))?.data as Analytics | undefined;
    const facts = gatherFacts({
      detail,
      metrics,
      lastLogAt: tracked.lastLogAt,
      statuses: tracked.statuses,
      usualPhaseMs: analytics?.avgPhaseDurationMs ?? {},
      agent: tracked.agent,
    });
    const result = evaluate(facts, this.#thresholdsFor(detail.status), now);
    if (result.wakeAt === null) this.#wakes.delete(id);
    else this.#wakes.set(id, result.wakeAt);
    this.#apply(
      id,
      result.findings.filter((f) => f.since >= this.#startedAt - STALE_MS),
      now,
    );
  }

  #track(id: string, detail: SessionDetail): Tracked {
    const status = detail.status;
    let tracked = this.#sessions.get(id);
    if (!tracked) {
      tracked = {
        detail,
        lastLogAt: this.#earlyLogs.get(id) ?? null,
        phase: status.currentPhase,
        statuses: [],
        agent: null,
      };
      this.#earlyLogs.delete(id);
      this.#sessions.set(id, tracked);
    }
    if (tracked.phase !== status.currentPhase) {
      tracked.phase = status.currentPhase;
      tracked.statuses = [];
    }
    const last = tracked.statuses.at(-1);
    if (last?.status !== status.status) {
      tracked.statuses = [
        ...tracked.statuses.slice(-49),
        { status: status.status, at: status.changedAt },
      ];
    }
    tracked.detail = detail;
    return tracked;
  }

  /** Raises the new findings, refreshes the held ones, resolves those that no longer hold. */
  #apply(sessionId: string, findings: readonly Finding[], now: number): void {
    const holding = new Set<string>();
    let changed = false;
    for (const f of findings) {
      const id = alertId(sessionId, f);
      holding.add(id);
      const held = this.#open.get(id);
      if (held) {
        if (held.reason !== f.reason || held.severity !== f.severity) {
          const next = { ...held, reason: f.reason, severity: f.severity };
          this.#putOpen(next);
          this.#enqueue(() => this.#store.saveAlert(next));
          changed = true;
        }
        continue;
      }
      const alert: Alert = {
        id,
        sessionId,
        kind: f.kind,
        severity: f.severity,
        reason: f.reason,
        since: f.since,
        raisedAt: now,
        resolvedAt: null,
        acknowledgedAt: null,
        snoozedUntil: null,
      };
      this.#putOpen(alert);
      changed = true;
      this.#enqueue(() => this.#raise(alert));
    }
    // Only this session's alerts: a cost per evaluation that does not grow with all alerts open.
    for (const id of [...(this.#openBySession.get(sessionId) ?? [])]) {
      const alert = this.#open.get(id);
      if (!alert || holding.has(id)) continue;
      const resolved = { ...alert, resolvedAt: now };
      this.#dropOpen(id);
      changed = true;
      this.#enqueue(async () => {
        await this.#store.saveAlert(resolved);
        await this.#store.addAlertEvent({
          alertId: id,
          sessionId,
          kind: 'resolved',
          at: now,
          detail: null,
          until: null,
        });
      });
    }
    if (changed) this.#publish();
  }

  /**
   * Stores a new alert, unless the store already has this episode (raised
   * before a restart, or resolved and back): then it is reopened as it was,
   * acknowledgement kept, and not announced again.
   */
  async #raise(alert: Alert): Promise<void> {
    const stored = await this.#store.alert(alert.id);
    if (stored) {
      const reopened = {
        ...stored,
        reason: alert.reason,
        severity: alert.severity,
        resolvedAt: null,
      };
      if (this.#open.has(alert.id)) {
        this.#putOpen(reopened);
        this.#publish();
      }
      await this.#store.saveAlert(reopened);
      return;
    }
    await this.#store.saveAlert(alert);
    await this.#store.addAlertEvent({
      alertId: alert.id,
      sessionId: alert.sessionId,
      kind: 'raised',
      at: alert.raisedAt,
      detail: alert.reason,
      until: null,
    });
    for (const listener of this.#raisedListeners) {
      try {
        listener(alert);
      } catch (error) {
        this.#log.warn({ err: error }, 'attention listener failed');
      }
    }
  }

  #enqueue(task: () => Promise<void>): void {
    this.#pending = this.#pending.then(task).catch((error: unknown) => {
      this.#log.warn({ err: error }, 'attention: storing an alert failed');
    });
  }

  /** The whole topic, alerts in id order (at start). */
  #publishAll(): void {
    const alerts: Record<string, Alert> = {};
    const sorted = [...this.#open.values()].sort((a, b) => a.id.localeCompare(b.id));
    for (const a of sorted) alerts[a.id] = a;
    const data: AttentionData = { alerts };
    this.#changed.clear();
    this.#hub.set(topic('attention'), data);
  }

  /** The alerts changed since the last publish, and only they: one change costs one entry. */
  #publish(): void {
    if (this.#changed.size === 0) return;
    const entries = new Map<string, Alert | undefined>();
    for (const id of this.#changed) entries.set(id, this.#open.get(id));
    this.#changed.clear();
    this.#hub.setEntries(topic('attention'), 'alerts', entries);
  }

  #putOpen(alert: Alert): void {
    this.#open.set(alert.id, alert);
    let ids = this.#openBySession.get(alert.sessionId);
    if (!ids) {
      ids = new Set();
      this.#openBySession.set(alert.sessionId, ids);
    }
    ids.add(alert.id);
    this.#changed.add(alert.id);
  }

  #dropOpen(id: string): void {
    const alert = this.#open.get(id);
    if (!alert) return;
    this.#open.delete(id);
    const ids = this.#openBySession.get(alert.sessionId);
    ids?.delete(id);
    if (ids?.size === 0) this.#openBySession.delete(alert.sessionId);
    this.#changed.add(id);
  }

  /** One timer, for the earliest moment a time-based rule could fire. */
  #arm(now: number): void {
    let next: number | null = null;
    for (const at of this.#wakes.values()) if (next === null || at < next) next = at;
    if (next === this.#timerAt) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#timerAt = next;
    if (next === null || this.#closed) return;
    this.#timer = setTimeout(
      () => {
        this.#timer = null;
        this.#timerAt = null;
        const at = this.#now();
        for (const [id, wake] of this.#wakes) if (wake <= at) this.#dirty.add(id);
        this.#flush();
      },
      Math.max(0, next - now + 1),
    );
    this.#timer.unref();
  }
}
