import { LivestreamClient } from '../client/index.ts';
import { MemoryHub } from '../hub/hub.ts';
import { inProcessSocket } from '../hub/in-process-socket.ts';
import { PlansEngine } from '../hub/plans-engine.ts';
import {
  ACTION_LABELS,
  type ActionRun,
  type ActionsConfig,
  type PlanActionName,
} from '../shared/plan-actions.ts';
import { fillCommand, runAction } from '../sources/plans/actions.ts';
import { PlansDirSource } from '../sources/plans/dir-source.ts';
import {
  createStore,
  type DashboardActions,
  type DashboardStore,
  initialState,
  type PlansState,
} from '../tui/state.ts';
import type { BuildsSource } from './plans-builds.ts';
import { followPlans, type PlansFeed } from './plans-feed.ts';

export type { PlansState } from '../tui/state.ts';

/** Shortest time between two renders of the list while the first read fills it. */
const FILL_MS = 50;

export interface HostOptions {
  plansDir: string;
  config: ActionsConfig;
  /** Poll every N ms instead of OS events. */
  pollMs?: number | null;
  /** Quiet time after the last file event before reloading (default 500 ms). */
  debounceMs?: number;
  /** Delay between an action's end and the refresh that follows it (default 500 ms). */
  settleMs?: number;
  /** Shortest time the refresh spinner shows (default 300 ms). */
  spinnerMs?: number;
  /** A server's sessions, agents and alerts (`--connect`). */
  builds?: { url: string; source: BuildsSource } | null;
  /** Plans from that server's `plans`/`plan:<id>` topics instead of reading `plansDir` here. */
  plansFromServer?: boolean;
  notices?: string[];
  /**
   * Runs `fn` with the terminal handed over: the dashboard steps aside while
   * an interactive action runs and comes back (refreshed) when it ends.
   */
  handover?: <T>(fn: () => Promise<T>) => Promise<T>;
  /** Acknowledges and snoozes alerts on the server (`--connect`). */
  alerts?: {
    acknowledge(id: string): Promise<void>;
    snooze(id: string, minutes: number): Promise<void>;
  } | null;
  now?: () => number;
}

/**
 * The plan dashboard's host: the I/O behind the views. Without a server it
 * owns an embedded hub whose plans engine applies this folder's plan source;
 * the views' state comes, either way, through the protocol client — the
 * in-process socket here, the server's WebSocket with `--connect` — into the
 * pure reducer of `src/tui/state.ts`. It also runs the actions.
 */
export class PlansController implements DashboardActions {
  readonly store: DashboardStore;
  readonly #opts: HostOptions;
  readonly #now: () => number;
  readonly #hub: MemoryHub | null;
  readonly #source: PlansDirSource | null;
  readonly #client: LivestreamClient | null;
  #unfollow: (() => void) | null = null;
  #feed: PlansFeed = { plans: [], complete: false };
  readonly #waiters = new Set<() => void>();
  #settle: NodeJS.Timeout | null = null;
  /** While the first read fills the list, plans are shown at most every `FILL_MS`. */
  #fill: NodeJS.Timeout | null = null;
  #fillPending = false;
  #refreshes = 0;
  #closed = false;

  constructor(opts: HostOptions) {
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
    const fromServer = Boolean(opts.plansFromServer && opts.builds);
    this.store = createStore(
      initialState({
        plansDir: opts.plansDir,
        config: opts.config,
        pollMs: opts.pollMs ?? null,
        fromServer,
        buildsUrl: opts.builds?.url ?? null,
        ...(opts.notices ? { notices: opts.notices } : {}),
      }),
    );
    if (fromServer) {
      this.#hub = null;
      this.#source = null;
      this.#client = null;
      return;
    }
    // Nothing resumes against this hub (its client lives beside it): no replay log to keep.
    const hub = new MemoryHub({ limits: { maxDeltas: 1, maxBytes: 64 * 1024 } });
    const engine = new PlansEngine({ hub });
    this.#hub = hub;
    this.#source = new PlansDirSource(opts.plansDir, (event) => engine.apply(event), {
      ...(opts.pollMs ? { pollMs: opts.pollMs } : {}),
      ...(opts.debounceMs === undefined ? {} : { debounceMs: opts.debounceMs }),
      onNotice: (message) => this.store.dispatch({ type: 'notice', message }),
    });
    this.#client = new LivestreamClient({ url: 'in-process', WebSocket: inProcessSocket(hub) });
  }

  getState = (): PlansState => this.store.getState();

  subscribe = (listener: () => void): (() => void) => this.store.subscribe(listener);

  /**
   * Reads the plans (or waits for the server's), then follows them. The
   * views can render before this resolves: they show "Reading…" until the
   * first read is complete.
   */
  async start(): Promise<void> {
    const builds = this.#opts.builds;
    if (builds) {
      this.store.dispatch({
        type: 'builds',
        builds: { ...this.getState().builds, status: 'connecting' },
      });
      builds.source.start((b) => this.store.dispatch({ type: 'builds', builds: b }));
      builds.source.onRefusal?.((message) =>
        this.store.dispatch({ type: 'notice', message: `${builds.url}: ${message}` }),
      );
    }
    const client = this.#client ?? builds?.source.client ?? null;
    if (!client) return;
    this.#client?.connect();
    const offWake = client.on(() => {
      for (const wake of [...this.#waiters]) wake();
    });
    const unfollow = followPlans(client, (feed) => {
      this.#feed = feed;
      this.#showPlans();
      if (feed.complete && !this.#source && this.getState().loadedAt === null) {
        this.#loaded();
      }
    });
    this.#unfollow = () => {
      unfollow();
      offWake();
    };
    if (!this.#source) return;
    try {
      await this.#source.scan();
      await this.#delivered();
      if (this.#closed) return;
      this.#loaded();
      await this.#source.watch();
      await this.#delivered();
    } catch (error) {
      this.#failed(error);
    }
  }

  /** `r`: drops every cache, shows the spinner, reloads and stamps the time. */
  async refresh(): Promise<void> {
    this.#refreshes++;
    this.store.dispatch({ type: 'refreshing', on: true });
    // The spinner stays long enough to be seen, even when the reload takes a millisecond.
    const shown = new Promise((done) => setTimeout(done, this.#opts.spinnerMs ?? 300));
    const read = (async () => {
      try {
        await this.#source?.rescan();
        await this.#delivered();
        if (!this.#closed) this.#loaded();
      } catch (error) {
        this.#failed(error);
      }
    })();
    await Promise.all([read, shown]);
    if (--this.#refreshes === 0) this.store.dispatch({ type: 'refreshing', on: false });
  }

  /** Runs an action for a plan; the plans are refreshed `settleMs` after it ends. */
  async run(
    planId: string,
    name: PlanActionName,
    achievementId?: string,
  ): Promise<ActionRun | null> {
    const state = this.getState();
    if (state.action?.running) return null;
    const plan = state.plans.find((p) => p.id === planId);
    if (!plan) return null;
    const target =
      plan.achievements.find((a) => a.id === achievementId) ??
      plan.achievements.find((a) => a.id === plan.next[0]) ??
      null;
    const subplan = target?.subplans.at(-1);
    const label = `${ACTION_LABELS[name]}${name === 'executeNext' || !target ? '' : ` ${target.id}`} (${plan.id})`;
    if (name === 'createExecution' && !subplan) {
      const run: ActionRun = {
        label,
        argv: [],
        lines: [],
        exitCode: null,
        error: `Achievement ${target?.id ?? '?'} has no SUBPLAN yet: create the subplan first.`,
        running: false,
      };
      this.store.dispatch({ type: 'action', run });
      return run;
    }
    const argv = fillCommand(this.#opts.config.commands[name], {
      plan: plan.id,
      planDir: plan.path,
      planFile: `${plan.path}/PLAN_${plan.path.split('/').at(-1)}.md`,
      achievement: target?.id ?? '',
      subplan: subplan ? `${plan.path}/subplans/${subplan}` : '',
      execution: String((target?.executions.length ?? 0) + 1).padStart(2, '0'),
    });
    const terminal = Boolean(this.#opts.config.terminal?.[name] && this.#opts.handover);
    const start = () =>
      runAction(label, argv, {
        cwd: this.#opts.config.cwd,
        timeoutMs: this.#opts.config.timeoutMs,
        onUpdate: (r) => this.store.dispatch({ type: 'action', run: r }),
        terminal,
      });
    const run = terminal && this.#opts.handover ? await this.#opts.handover(start) : await start();
    if (!this.#closed) {
      this.#settle = setTimeout(() => void this.refresh(), this.#opts.settleMs ?? 500);
    }
    return run;
  }

  /** Hides the last action's output. */
  dismissAction(): void {
    const action = this.getState().action;
    if (action && !action.running) this.store.dispatch({ type: 'action', run: null });
  }

  acknowledge(alertId: string): void {
    this.#alertCall(() => this.#opts.alerts?.acknowledge(alertId), 'acknowledge');
  }

  snooze(alertId: string, minutes: number): void {
    this.#alertCall(() => this.#opts.alerts?.snooze(alertId, minutes), 'snooze');
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#settle) clearTimeout(this.#settle);
    if (this.#fill) clearTimeout(this.#fill);
    for (const wake of this.#waiters) wake();
    this.#unfollow?.();
    await this.#opts.builds?.source.close();
    await this.#source?.close();
    this.#client?.close();
    this.#hub?.close();
  }

  #alertCall(call: () => Promise<void> | undefined, what: string): void {
    const pending = call();
    if (!pending) {
      this.store.dispatch({
        type: 'notice',
        message: `Alerts come from a server: start with --connect URL to ${what} them.`,
      });
      return;
    }
    pending.catch((error: unknown) =>
      this.store.dispatch({
        type: 'notice',
        message: `Could not ${what} the alert: ${(error as Error).message}`,
      }),
    );
  }

  /**
   * Shows the feed's plans. Live changes show at once; while the first read
   * fills the list, one plan arriving after another, they show at most every
   * `FILL_MS` — a render per plan would make 21 plans take a second to appear.
   */
  #showPlans(): void {
    if (this.getState().loadedAt !== null) {
      this.store.dispatch({ type: 'plans', plans: this.#feed.plans });
      return;
    }
    if (this.#fill) {
      this.#fillPending = true;
      return;
    }
    this.store.dispatch({ type: 'plans', plans: this.#feed.plans });
    this.#fill = setTimeout(() => {
      this.#fill = null;
      if (!this.#fillPending || this.#closed) return;
      this.#fillPending = false;
      this.#showPlans();
    }, FILL_MS);
  }

  /** The read is complete: every plan it found is shown, then stamped. */
  #loaded(): void {
    if (this.#fill) clearTimeout(this.#fill);
    this.#fill = null;
    this.#fillPending = false;
    this.store.dispatch({ type: 'plans', plans: this.#feed.plans });
    this.store.dispatch({ type: 'loaded', at: this.#now() });
  }

  /** Resolves once the client holds every plan the engine published (in-process: a few microtasks). */
  #delivered(): Promise<void> {
    const hub = this.#hub;
    if (!hub) return Promise.resolve();
    const caughtUp = () => {
      if (this.#closed) return true;
      if (!this.#feed.complete) return false;
      const list = hub.get('plans');
      const entry = this.#client?.topic<'plans'>('plans');
      return !list || entry?.version === list.version;
    };
    return new Promise((resolve) => {
      const check = () => {
        if (!caughtUp()) return;
        this.#waiters.delete(check);
        resolve();
      };
      this.#waiters.add(check);
      queueMicrotask(check);
    });
  }

  #failed(error: unknown): void {
    if (this.#closed) return;
    this.store.dispatch({
      type: 'error',
      message: `Reading ${this.#opts.plansDir} failed: ${(error as Error).message}`,
    });
  }
}
