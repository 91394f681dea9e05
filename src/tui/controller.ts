import { Writable } from 'node:stream';
import pino from 'pino';
import type { AgentSummary } from '../shared/agents.ts';
import type { SessionStatus } from '../shared/model.ts';
import type { PlanDetail } from '../shared/plans.ts';
import {
  ACTION_LABELS,
  type ActionRun,
  type ActionsConfig,
  fillCommand,
  type PlanActionName,
  runAction,
} from '../sources/plans/actions.ts';
import { PlansRepository } from '../sources/plans/repository.ts';
import { RootWatcher } from '../sources/watcher.ts';

/** The live build sessions, from a server (`--connect`). */
export interface BuildsState {
  /** Null without --connect: the screen says how to get them. */
  url: string | null;
  status: 'off' | 'connecting' | 'connected' | 'disconnected';
  sessions: SessionStatus[];
  /** Coding-agent sessions (Claude Code, Codex) of the same server, most recent first. */
  agents?: AgentSummary[];
  error: string | null;
}

/** Where build sessions come from; the controller only listens. */
export interface BuildsSource {
  start(onChange: (state: Omit<BuildsState, 'url'>) => void): void;
  close(): void | Promise<void>;
}

/** Everything the views show. A new object on every change; unchanged parts keep their identity. */
export interface PlansState {
  plansDir: string;
  plans: PlanDetail[];
  /** When the plans were last (re)loaded; null before the first load. */
  loadedAt: number | null;
  refreshing: boolean;
  /** Why the last load failed; the last good plans stay. */
  error: string | null;
  /** Lines worth telling the user once (second instance, watcher trouble). */
  notices: string[];
  action: ActionRun | null;
  builds: BuildsState;
  watch: { mode: 'events' | 'poll'; pollMs: number | null };
  config: ActionsConfig;
}

export interface ControllerOptions {
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
  builds?: { url: string; source: BuildsSource } | null;
  notices?: string[];
  /**
   * Runs `fn` with the terminal handed over: the dashboard steps aside while
   * an interactive action runs and comes back (refreshed) when it ends.
   */
  handover?: <T>(fn: () => Promise<T>) => Promise<T>;
  now?: () => number;
}

const RELEVANT =
  /^[^/]+\/(?:PLAN_[^/]*\.md|parallel\.json|subplans\/[^/]+|execution\/[^/]+|execution\/feedbacks\/[^/]+)$/;

/**
 * The plan dashboard's I/O: it reads the plans folder, watches it, runs
 * actions and holds the state the Ink views render. Views call its methods
 * (dispatch) and re-render from `getState()` when `subscribe` fires — which
 * happens only when something changed.
 */
export class PlansController {
  readonly #opts: ControllerOptions;
  readonly #repo: PlansRepository;
  readonly #now: () => number;
  readonly #listeners = new Set<() => void>();
  #state: PlansState;
  #watcher: RootWatcher | null = null;
  #debounce: NodeJS.Timeout | null = null;
  #settle: NodeJS.Timeout | null = null;
  #loading: Promise<void> | null = null;
  #again = false;
  #closed = false;

  constructor(opts: ControllerOptions) {
    this.#opts = opts;
    this.#repo = new PlansRepository(opts.plansDir);
    this.#now = opts.now ?? Date.now;
    this.#state = {
      plansDir: opts.plansDir,
      plans: [],
      loadedAt: null,
      refreshing: false,
      error: null,
      notices: opts.notices ?? [],
      action: null,
      builds: { url: opts.builds?.url ?? null, status: 'off', sessions: [], error: null },
      watch: { mode: opts.pollMs ? 'poll' : 'events', pollMs: opts.pollMs ?? null },
      config: opts.config,
    };
  }

  getState = (): PlansState => this.#state;

  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  /** Loads the plans, then starts watching (and the builds feed). */
  async start(): Promise<void> {
    await this.#load();
    const watcherLog = pino({ level: 'warn', base: undefined }, this.#noticeStream());
    this.#watcher = new RootWatcher({
      roots: [this.#opts.plansDir],
      logger: watcherLog,
      ...(this.#opts.pollMs ? { pollMs: this.#opts.pollMs } : {}),
      handlers: [
        {
          name: 'plans-dashboard',
          match: (rel) => RELEVANT.test(rel),
          handle: (event) => {
            if (!this.#watching) return;
            this.#repo.markChanged(event.path);
            this.#schedule();
          },
        },
      ],
    });
    // The watcher's initial scan reports every file as added: the load above already read them.
    await this.#watcher.start();
    this.#watching = true;
    // Changes made while the scan ran are not lost: one cheap reconcile.
    this.#repo.clear();
    await this.#load();
    const builds = this.#opts.builds;
    if (builds) {
      this.#set({ builds: { ...this.#state.builds, status: 'connecting' } });
      builds.source.start((b) => this.#set({ builds: { url: builds.url, ...b } }));
    }
  }

  #watching = false;

  /** `r`: drops every cache, shows the spinner, reloads and stamps the time. */
  async refresh(): Promise<void> {
    this.#repo.clear();
    this.#refreshes++;
    this.#set({ refreshing: true });
    // The spinner stays long enough to be seen, even when the reload takes a millisecond.
    const shown = new Promise((done) => setTimeout(done, this.#opts.spinnerMs ?? 300));
    await Promise.all([this.#load(), shown]);
    if (--this.#refreshes === 0) this.#set({ refreshing: false });
  }

  #refreshes = 0;

  /** Runs an action for a plan; the plans are refreshed `settleMs` after it ends. */
  async run(
    planId: string,
    name: PlanActionName,
    achievementId?: string,
  ): Promise<ActionRun | null> {
    if (this.#state.action?.running) return null;
    const plan = this.#state.plans.find((p) => p.id === planId);
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
      this.#set({ action: run });
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
        onUpdate: (r) => this.#set({ action: r }),
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
    if (this.#state.action && !this.#state.action.running) this.#set({ action: null });
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#debounce) clearTimeout(this.#debounce);
    if (this.#settle) clearTimeout(this.#settle);
    await this.#opts.builds?.source.close();
    await this.#watcher?.stop();
    await this.#loading?.catch(() => undefined);
  }

  #schedule(): void {
    if (this.#debounce) clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => {
      this.#debounce = null;
      void this.#load();
    }, this.#opts.debounceMs ?? 500);
  }

  /** One load at a time; a request during a load runs once more after it. */
  #load(): Promise<void> {
    if (this.#loading) {
      this.#again = true;
      return this.#loading;
    }
    this.#loading = (async () => {
      try {
        do {
          this.#again = false;
          const plans = await this.#repo.load();
          if (this.#closed) return;
          this.#set({
            plans: keepIdentity(this.#state.plans, plans),
            loadedAt: this.#now(),
            error: null,
          });
        } while (this.#again);
      } catch (error) {
        this.#set({ error: `Reading ${this.#opts.plansDir} failed: ${(error as Error).message}` });
      } finally {
        this.#loading = null;
      }
    })();
    return this.#loading;
  }

  #set(patch: Partial<PlansState>): void {
    const next = { ...this.#state, ...patch };
    const changed = (Object.keys(patch) as (keyof PlansState)[]).some(
      (k) => next[k] !== this.#state[k],
    );
    if (!changed || this.#closed) return;
    this.#state = next;
    for (const listener of this.#listeners) listener();
  }

  #noticeStream(): Writable {
    return new Writable({
      write: (chunk: Buffer, _enc, done) => {
        for (const line of chunk.toString('utf8').split('\n')) {
          if (!line) continue;
          try {
            const msg = String((JSON.parse(line) as { msg?: unknown }).msg ?? '');
            if (msg && !this.#state.notices.includes(msg)) {
              this.#set({ notices: [...this.#state.notices, msg].slice(-5) });
            }
          } catch {
            // not a log record
          }
        }
        done();
      },
    });
  }
}

/** Keeps the previous object of every plan whose derivation did not change, so views skip it. */
function keepIdentity(prev: PlanDetail[], next: PlanDetail[]): PlanDetail[] {
  const old = new Map(prev.map((p) => [p.id, p]));
  let same = prev.length === next.length;
  const out = next.map((p, i) => {
    const before = old.get(p.id);
    const kept =
      before && (before === p || JSON.stringify(before) === JSON.stringify(p)) ? before : p;
    if (kept !== prev[i]) same = false;
    return kept;
  });
  return same ? prev : out;
}
