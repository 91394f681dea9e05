import { resolve } from 'node:path';
import type { Logger } from 'pino';
import { MetricsAccount, type MetricsWarning } from '../core/metrics/account.ts';
import { type AgentUpdate, parseAgentUpdate } from '../core/metrics/agents.ts';
import { type EventLine, eventLine, parseBroadcast } from '../core/metrics/events.ts';
import type {
  DecisionFile,
  JsonlBatch,
  JsonlKind,
  MetricsFileEvent,
  MetricsFileProblem,
  TestResultsFile,
} from '../core/metrics/inputs.ts';
import {
  DEFAULT_TOKEN_BUDGET,
  readSessionLogLine,
  type TokenReading,
} from '../core/metrics/tokens.ts';
import type { Analytics, SessionMetrics, TokenPoint } from '../shared/metrics.ts';
import type { SessionDetail } from '../shared/model.ts';
import { topic } from '../shared/topics.ts';
import type { MetricsStore, SessionStore } from '../store/types.ts';
import type { Telemetry } from '../telemetry.ts';
import { AnalyticsBook } from './analytics-book.ts';
import type { LogBook } from './logbook.ts';
import {
  MAX_PENDING_ITEMS,
  MAX_PENDING_READINGS,
  type Pending,
  PendingInputs,
  pushBounded,
} from './metrics-pending.ts';
import type { SessionEngine } from './session-engine.ts';
import type { Hub } from './types.ts';

/** Sessions not known yet whose inputs are held, and inputs held per session. */
/** Analytics are recomputed this long after the last session change. */
const ANALYTICS_DEBOUNCE_MS = 1000;

export interface MetricsEngineOptions {
  hub: Hub;
  sessions: SessionEngine;
  store: SessionStore & MetricsStore;
  logs: LogBook;
  logger: Logger;
  /** Tokens per session before the budget is spent (default 200,000). */
  tokenBudget?: number;
  now?: () => number;
  /** Counts ingested lines and updates for `/metrics` when given. */
  telemetry?: Telemetry;
}

export type AgentUpdateResult =
  | { ok: true; status: 'received'; session_id: string; agent_id: string; key: string | null }
  | { ok: false; error: string; message: string };

export type BroadcastResult =
  | { ok: true; status: 'received'; session_id: string; key: string | null }
  | { ok: false; error: string; message: string };

/**
 * The enhanced metrics of every session: tokens from session.jsonl and agent
 * updates, test iterations, the agent tree, decisions, and events into the
 * session's log. Publishes `metrics:<key>` (a whole new `SessionMetrics` on
 * each change) and `analytics`; keeps history in the store. Inputs for a
 * session that is not known yet are held (bounded, nothing saved) and
 * replayed when the session appears.
 */
/** Event identities remembered per session: far more than a runner's copies can lag each other. */
const MAX_SEEN_EVENTS = 4096;

export class MetricsEngine {
  readonly #hub: Hub;
  readonly #sessions: SessionEngine;
  readonly #store: SessionStore & MetricsStore;
  readonly #logs: LogBook;
  readonly #log: Logger;
  readonly #budget: number;
  readonly #now: () => number;
  readonly #telemetry: Telemetry | undefined;
  readonly #accounts = new Map<string, MetricsAccount>();
  /** Identities of the events each session's log already has (bounded), to drop the broadcast copy. */
  readonly #seenEvents = new Map<string, Set<string>>();
  /** Keyed `id:<session id>` or `dir:<project folder>`. */
  readonly #pending: PendingInputs;
  #analyticsTimer: NodeJS.Timeout | null = null;
  /** Each session's share of the analytics; only changed sessions are read again. */
  readonly #book: AnalyticsBook;
  readonly #unsubscribe: () => void;

  constructor(opts: MetricsEngineOptions) {
    this.#hub = opts.hub;
    this.#sessions = opts.sessions;
    this.#store = opts.store;
    this.#logs = opts.logs;
    this.#log = opts.logger;
    this.#budget =
      opts.tokenBudget && opts.tokenBudget > 0 ? opts.tokenBudget : DEFAULT_TOKEN_BUDGET;
    this.#now = opts.now ?? Date.now;
    this.#telemetry = opts.telemetry;
    this.#pending = new PendingInputs(opts.logger);
    const store = opts.store;
    this.#book = new AnalyticsBook({
      store: {
        // The sessions from memory, which the store mirrors: reading and parsing every stored
        // row on each recompute blocked the loop ~100 ms a second with 10,000 sessions.
        listSessions: async (filter) => this.#sessions.list(filter),
        transitionsSince: (afterId, key) => store.transitionsSince(afterId, key),
      },
      extras: (key) => {
        const account = this.#accounts.get(key);
        return {
          tokensByPhase: account?.tokens.byPhase() ?? null,
          testIterations: account?.testIterations() ?? [],
        };
      },
    });
    this.#unsubscribe = this.#sessions.onChange((key) => this.#sessionChanged(key));
  }

  /**
   * Applies what the metric sources read (wired by `createEngines`): JSONL
   * lines (resolves true once durably accounted), a log read again from its
   * start, test results, decision files, problems.
   */
  apply(event: MetricsFileEvent): Promise<boolean> | undefined {
    switch (event.kind) {
      case 'jsonl':
        return this.#jsonlBatch(event.batch);
      case 'jsonl_reset':
        this.#jsonlReset(event.log, event.sessionId, event.reason);
        return undefined;
      case 'test_results':
        this.#testResults(event.file);
        return undefined;
      case 'decisions':
        this.#decisionFile(event.file);
        return undefined;
      case 'problem':
        this.#problem(event.problem);
        return undefined;
    }
  }

  /** Loads the stored metrics of every stored session and publishes them. */
  async restore(): Promise<void> {
    const sessions = await this.#store.listSessions();
    for (const status of sessions) {
      const key = status.id;
      const [points, tests, agents, decisions] = await Promise.all([
        this.#store.tokenPoints(key),
        this.#store.testIterations(key),
        this.#store.agents(key),
        this.#store.decisions(key),
      ]);
      const account = new MetricsAccount();
      account.load({ points, tests, agents, decisions });
      this.#accounts.set(key, account);
      this.#publish(key);
    }
    this.#book.reset();
    await this.analytics();
  }

  /** `POST /api/agent-update`. */
  agentUpdate(body: unknown, receivedAt: number): AgentUpdateResult {
    const parsed = parseAgentUpdate(body);
    if (!parsed.ok) return parsed;
    const update = parsed.update;
    const key = this.#sessions.keyFor(update.session_id);
    if (key === null) {
      const pending = this.#pending.for(`id:${update.session_id}`);
      pushBounded(pending.agents, { update, at: receivedAt }, MAX_PENDING_ITEMS, pending);
    } else {
      this.#applyAgent(key, update, receivedAt);
      this.#publish(key);
    }
    return {
      ok: true,
      status: 'received',
      session_id: update.session_id,
      agent_id: update.agent_id,
      key,
    };
  }

  /** `POST /api/broadcast/:id`: an event object into the session's log. */
  broadcast(sessionId: string, body: unknown, receivedAt: number): BroadcastResult {
    const parsed = parseBroadcast(sessionId, body, receivedAt);
    if (!parsed.ok) return parsed;
    const line = parsed.line;
    const key = this.#sessions.keyFor(sessionId);
    if (key === null) {
      const pending = this.#pending.for(`id:${sessionId}`);
      pushBounded(pending.events, line, MAX_PENDING_ITEMS, pending);
    } else this.#appendEvent(key, line);
    return { ok: true, status: 'received', session_id: sessionId, key };
  }

  /** The metrics of a known session; null for an unknown key. */
  get(key: string): SessionMetrics | null {
    const state = this.#hub.get(topic('metrics', key));
    if (state?.data) return state.data as SessionMetrics;
    if (!this.#sessions.get(key)) return null;
    return this.#account(key).metrics(this.#whereabouts(key), this.#budget);
  }

  /**
   * The cross-session analytics of the stored history, published. Only the
   * transitions stored since the last call are read (see `AnalyticsBook`).
   */
  async analytics(): Promise<Analytics> {
    const analytics = await this.#book.compute();
    this.#hub.set(topic('analytics'), analytics);
    return analytics;
  }

  /** Drops the metrics of pruned sessions (see `SessionEngine.prune`) from memory and the hub. */
  forget(keys: readonly string[]): void {
    for (const key of keys) {
      this.#accounts.delete(key);
      this.#seenEvents.delete(key);
      this.#hub.remove(topic('metrics', key));
      this.#book.forget(key);
    }
    if (keys.length > 0) this.#scheduleAnalytics();
  }

  /** Stops timers (the sources are closed by whoever opened them). */
  close(): void {
    this.#unsubscribe();
    if (this.#analyticsTimer) clearTimeout(this.#analyticsTimer);
    this.#analyticsTimer = null;
  }

  // --- inputs -----------------------------------------------------------

  async #jsonlBatch(batch: JsonlBatch): Promise<boolean> {
    const receivedAt = this.#now();
    this.#telemetry
      ?.counter('livestream_metric_lines_total', 'JSONL lines ingested by the metrics engine', [
        'kind',
      ])
      .inc({ kind: batch.kind }, batch.values.length);
    const key = this.#sessions.keyFor(batch.sessionId);
    if (key === null) {
      const pending = this.#pending.for(`id:${batch.sessionId}`);
      pending.persists.add(batch.persist);
      for (const value of batch.values) {
        if (batch.kind === 'events') {
          const line = eventLine(value, receivedAt);
          if (line) pushBounded(pending.events, line, MAX_PENDING_ITEMS, pending);
        } else {
          pending.sessionLogSeen = true;
          const reading = readSessionLogLine(value);
          if (reading)
            pushBounded(
              pending.readings,
              { reading, receivedAt },
              MAX_PENDING_READINGS,
              pending,
              true,
            );
        }
      }
      return false;
    }
    if (batch.kind === 'events') {
      for (const value of batch.values) {
        const line = eventLine(value, receivedAt);
        if (line) this.#appendEvent(key, line);
      }
      return true;
    }
    const readings: { reading: TokenReading; receivedAt: number }[] = [];
    for (const value of batch.values) {
      const reading = readSessionLogLine(value);
      if (reading) readings.push({ reading, receivedAt });
    }
    const points = this.#applyReadings(key, readings);
    this.#account(key).sessionLogSeen = true;
    this.#publish(key);
    await this.#savePoints(key, points);
    return true;
  }

  #jsonlReset(kind: JsonlKind, sessionId: string, reason: string): void {
    const key = this.#sessions.keyFor(sessionId);
    const what = kind === 'events' ? 'events.jsonl' : 'session.jsonl';
    this.#log.info({ sessionId, kind, reason }, `${what} ${reason}; reading it from the start`);
    if (kind !== 'session_log') return;
    // Lines counted before are recognised by time and not counted twice.
    if (key !== null) this.#account(key).tokens.beginReplay();
    else {
      const pending = this.#pending.get(`id:${sessionId}`);
      if (pending) pending.resets.push(pending.readings.length);
    }
  }

  #testResults(file: TestResultsFile): void {
    const key = this.#sessions.keyForProject(file.projectDir);
    if (key === null) {
      this.#pending.for(`dir:${resolve(file.projectDir)}`).tests.set(file.iteration, file);
      return;
    }
    this.#applyTests(key, file);
    this.#publish(key);
  }

  #decisionFile(file: DecisionFile): void {
    const key = this.#sessions.keyForProject(file.projectDir);
    if (key === null) {
      this.#pending.for(`dir:${resolve(file.projectDir)}`).decisions.set(file.source, file);
      return;
    }
    this.#applyDecisions(key, file);
    this.#publish(key);
  }

  #problem(problem: MetricsFileProblem): void {
    const key =
      problem.sessionId !== null
        ? this.#sessions.keyFor(problem.sessionId)
        : problem.projectDir !== null
          ? this.#sessions.keyForProject(problem.projectDir)
          : null;
    this.#log.warn({ path: problem.path, code: problem.code }, problem.message);
    this.#telemetry
      ?.counter('livestream_metric_problems_total', 'Problems met reading metric sources', ['code'])
      .inc({ code: problem.code });
    if (key === null) {
      const owner =
        problem.sessionId !== null
          ? `id:${problem.sessionId}`
          : `dir:${resolve(problem.projectDir ?? '.')}`;
      const pending = this.#pending.for(owner);
      pushBounded(pending.problems, problem, 50, pending);
      return;
    }
    this.#applyProblem(key, problem);
    this.#publish(key);
  }

  // --- applying to a known session ----------------------------------------

  #applyReadings(
    key: string,
    readings: { reading: TokenReading; receivedAt: number }[],
  ): TokenPoint[] {
    const account = this.#account(key);
    if (readings.length === 0) return [];
    const detail = this.#sessions.get(key);
    const points: TokenPoint[] = [];
    for (const { reading, receivedAt } of readings) {
      const phase = phaseAt(detail, reading.at ?? receivedAt);
      const point = account.applyTokens(reading, phase, receivedAt);
      if (point) points.push(point);
    }
    return points;
  }

  async #savePoints(key: string, points: TokenPoint[]): Promise<void> {
    if (points.length === 0) return;
    await Promise.all(points.map((p) => this.#store.addTokenPoint(key, p)));
    this.#scheduleAnalytics(key);
  }

  #applyAgent(key: string, update: AgentUpdate, at: number): void {
    const phase = this.#sessions.get(key)?.status.currentPhase ?? null;
    const agent = this.#account(key).applyAgent(update, phase, at);
    this.#save(this.#store.saveAgent(key, agent));
  }

  #applyTests(key: string, file: TestResultsFile): void {
    const iteration = this.#account(key).applyTestResults(
      file.iteration,
      file.counts,
      file.source,
      file.at,
    );
    if (iteration) {
      this.#save(this.#store.saveTestIteration(key, iteration));
      this.#scheduleAnalytics(key);
    }
  }

  #applyDecisions(key: string, file: DecisionFile): void {
    const account = this.#account(key);
    for (const d of account.applyDecisionFile(file.source, file.parsed.decisions)) {
      this.#save(this.#store.saveDecision(key, d));
    }
    if (file.parsed.skipped > 0) {
      account.warn(`${file.source}:skipped`, {
        code: 'odd_entries',
        message: `${file.source}: skipped ${file.parsed.skipped} entr${file.parsed.skipped === 1 ? 'y' : 'ies'} with nothing to show`,
        at: file.at,
      });
    }
  }

  #applyProblem(key: string, problem: MetricsFileProblem): void {
    const warning: MetricsWarning = {
      code: problem.code,
      message: problem.message,
      at: this.#now(),
    };
    this.#account(key).warn(`${problem.path}:${problem.code}`, warning);
    this.#logs.append(key, { at: warning.at, level: 'warn', text: problem.message });
  }

  #appendEvent(key: string, line: EventLine): void {
    if (line.identity !== null) {
      let seen = this.#seenEvents.get(key);
      if (!seen) {
        seen = new Set();
        this.#seenEvents.set(key, seen);
      }
      if (seen.has(line.identity)) return;
      seen.add(line.identity);
      if (seen.size > MAX_SEEN_EVENTS) seen.delete(seen.values().next().value as string);
    }
    this.#logs.append(key, { at: line.at, level: 'event', text: line.text, kind: line.kind });
  }

  // --- sessions appearing -------------------------------------------------

  #sessionChanged(key: string): void {
    const status = this.#sessions.get(key)?.status;
    if (!status) return;
    const owners = [`id:${status.sessionId}`, `id:${key}`];
    if (status.projectDir) owners.push(`dir:${resolve(status.projectDir)}`);
    for (const owner of owners) {
      const pending = this.#pending.get(owner);
      if (!pending) continue;
      const resolved = owner.startsWith('id:')
        ? this.#sessions.keyFor(owner.slice(3))
        : this.#sessions.keyForProject(owner.slice(4));
      if (resolved === key) {
        this.#pending.delete(owner);
        this.#attach(key, pending).catch((error: unknown) =>
          this.#log.error({ err: error, key }, 'attaching held metrics failed'),
        );
      }
    }
    if (!this.#hub.get(topic('metrics', key))) this.#publish(key);
    this.#scheduleAnalytics(key);
  }

  /** Replays what was held for a session that just appeared, then saves the tails' offsets. */
  async #attach(key: string, pending: Pending): Promise<void> {
    const points: TokenPoint[] = [];
    let from = 0;
    for (const at of [...pending.resets, pending.readings.length]) {
      points.push(...this.#applyReadings(key, pending.readings.slice(from, at)));
      if (at < pending.readings.length) this.#account(key).tokens.beginReplay();
      from = at;
    }
    if (pending.sessionLogSeen) this.#account(key).sessionLogSeen = true;
    for (const { update, at } of pending.agents) this.#applyAgent(key, update, at);
    for (const line of pending.events) this.#appendEvent(key, line);
    for (const file of pending.tests.values()) this.#applyTests(key, file);
    for (const file of pending.decisions.values()) this.#applyDecisions(key, file);
    for (const problem of pending.problems) this.#applyProblem(key, problem);
    if (pending.dropped > 0) {
      this.#account(key).warn('pending:dropped', {
        code: 'dropped_while_unknown',
        message: `${pending.dropped} input(s) were dropped while the session was not known yet`,
        at: this.#now(),
      });
    }
    this.#publish(key);
    await this.#savePoints(key, points);
    for (const persist of pending.persists) await persist();
  }

  // --- helpers ------------------------------------------------------------

  #account(key: string): MetricsAccount {
    let account = this.#accounts.get(key);
    if (!account) {
      account = new MetricsAccount();
      this.#accounts.set(key, account);
    }
    return account;
  }

  #whereabouts(key: string): { sessionId: string; projectDir: string | null } {
    const status = this.#sessions.get(key)?.status;
    return { sessionId: status?.sessionId ?? key, projectDir: status?.projectDir ?? null };
  }

  #publish(key: string): void {
    const metrics = this.#account(key).metrics(this.#whereabouts(key), this.#budget);
    this.#hub.set(topic('metrics', key), metrics);
  }

  /** Store writes never throw by contract; a broken promise is still logged, never unhandled. */
  #save(write: Promise<void>): void {
    write.catch((error: unknown) => this.#log.error({ err: error }, 'saving metrics failed'));
  }

  /** Marks the session's analytics to be read again and recomputes within a second. */
  #scheduleAnalytics(key?: string): void {
    if (key !== undefined) this.#book.markDirty(key);
    if (this.#analyticsTimer) return;
    this.#analyticsTimer = setTimeout(() => {
      this.#analyticsTimer = null;
      this.analytics().catch((error: unknown) =>
        this.#log.warn({ err: error }, 'computing analytics failed'),
      );
    }, ANALYTICS_DEBOUNCE_MS);
    this.#analyticsTimer.unref();
  }
}

/** The phase a session was in at `at`, from its timeline; its current phase otherwise. */
function phaseAt(detail: SessionDetail | null, at: number): string | null {
  if (!detail) return null;
  for (const entry of detail.timeline) {
    if (at >= entry.startedAt && (entry.endedAt === null || at < entry.endedAt)) return entry.phase;
  }
  return detail.status.currentPhase || null;
}
