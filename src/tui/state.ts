import type { AgentSummary } from '../shared/agents.ts';
import type { Alert } from '../shared/attention.ts';
import type { SessionStatus } from '../shared/model.ts';
import type { ActionRun, ActionsConfig, PlanActionName } from '../shared/plan-actions.ts';
import type { PlanDetail } from '../shared/plans.ts';

/** The live build sessions, from a server (`--connect`). */
export interface BuildsState {
  /** Null without --connect: the screen says how to get them. */
  url: string | null;
  status: 'off' | 'connecting' | 'connected' | 'disconnected';
  sessions: SessionStatus[];
  /** Coding-agent sessions (Claude Code, Codex) of the same server, most recent first. */
  agents?: AgentSummary[] | undefined;
  /** The server's open alerts (the `attention` topic); the queue is computed at render time. */
  alerts?: Alert[] | undefined;
  error: string | null;
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
  watch: { mode: 'events' | 'poll' | 'server'; pollMs: number | null };
  config: ActionsConfig;
}

/** What can happen to the dashboard's state: the host turns I/O into these. */
export type DashboardEvent =
  | { type: 'plans'; plans: PlanDetail[] }
  | { type: 'loaded'; at: number }
  | { type: 'refreshing'; on: boolean }
  | { type: 'error'; message: string | null }
  | { type: 'notice'; message: string }
  | { type: 'action'; run: ActionRun | null }
  | { type: 'builds'; builds: Omit<BuildsState, 'url'> };

/** The notices kept (the screen shows the last two). */
const MAX_NOTICES = 5;

/** The state before anything was read. */
export function initialState(opts: {
  plansDir: string;
  config: ActionsConfig;
  pollMs?: number | null;
  fromServer?: boolean;
  buildsUrl?: string | null;
  notices?: string[];
}): PlansState {
  return {
    plansDir: opts.plansDir,
    plans: [],
    loadedAt: null,
    refreshing: false,
    error: null,
    notices: opts.notices ?? [],
    action: null,
    builds: { url: opts.buildsUrl ?? null, status: 'off', sessions: [], error: null },
    watch: {
      mode: opts.fromServer ? 'server' : opts.pollMs ? 'poll' : 'events',
      pollMs: opts.pollMs ?? null,
    },
    config: opts.config,
  };
}

/**
 * The dashboard's reducer. Pure: returns `state` itself when the event
 * changes nothing, so a store can skip the render.
 */
export function reduce(state: PlansState, event: DashboardEvent): PlansState {
  switch (event.type) {
    case 'plans': {
      const plans = keepIdentity(state.plans, event.plans);
      return plans === state.plans ? state : { ...state, plans };
    }
    case 'loaded':
      return { ...state, loadedAt: event.at, error: null };
    case 'refreshing':
      return state.refreshing === event.on ? state : { ...state, refreshing: event.on };
    case 'error':
      return state.error === event.message ? state : { ...state, error: event.message };
    case 'notice':
      return state.notices.includes(event.message)
        ? state
        : { ...state, notices: [...state.notices, event.message].slice(-MAX_NOTICES) };
    case 'action':
      return state.action === event.run ? state : { ...state, action: event.run };
    case 'builds': {
      const prev = state.builds;
      const next = event.builds;
      const same =
        prev.status === next.status &&
        prev.error === next.error &&
        prev.sessions === next.sessions &&
        prev.agents === next.agents &&
        prev.alerts === next.alerts;
      return same ? state : { ...state, builds: { url: prev.url, ...next } };
    }
  }
}

/** Keeps the previous list (and plan objects) when nothing in them changed, so views skip them. */
function keepIdentity(prev: PlanDetail[], next: PlanDetail[]): PlanDetail[] {
  if (prev.length !== next.length) return next;
  for (let i = 0; i < next.length; i++) if (prev[i] !== next[i]) return next;
  return prev;
}

/** The store the views read (`useSyncExternalStore`) and the host dispatches into. */
export interface DashboardStore {
  getState(): PlansState;
  subscribe(listener: () => void): () => void;
  dispatch(event: DashboardEvent): void;
}

/** A store over `reduce`: listeners hear only real changes. */
export function createStore(initial: PlansState): DashboardStore {
  let state = initial;
  const listeners = new Set<() => void>();
  return {
    getState: () => state,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    dispatch(event) {
      const next = reduce(state, event);
      if (next === state) return;
      state = next;
      for (const listener of [...listeners]) listener();
    },
  };
}

/** What the views ask the host to do; the host does the I/O. */
export interface DashboardActions {
  /** `r`: read everything again. */
  refresh(): void;
  /** `n`/`s`/`e` on a plan's achievement. */
  run(planId: string, name: PlanActionName, achievementId?: string): void;
  /** `x`: hide the last action's output. */
  dismissAction(): void;
  /** `a` on an alert of the attention queue. */
  acknowledge?(alertId: string): void;
  /** `z` on an alert: hide it from the queue for `minutes`. */
  snooze?(alertId: string, minutes: number): void;
}

/** What the views are given: the state to render and the actions keys ask for. */
export type DashboardController = Pick<DashboardStore, 'getState' | 'subscribe'> & DashboardActions;
