import type { AgentKind, AgentSummary } from '../../../src/shared/agents.ts';
import type { SessionState, SessionStatus } from '../../../src/shared/model.ts';

/** Which kind of work a row is: a Context Foundry build or a coding agent. */
export type WorkKind = 'all' | 'build' | AgentKind;
export const WORK_KINDS: WorkKind[] = ['all', 'build', 'claude', 'codex'];

/** `machine` is the session's host; '' when unknown (servers older than the field). */
export type WorkItem =
  | {
      kind: 'build';
      id: string;
      live: boolean;
      at: number;
      project: string;
      machine: string;
      s: SessionStatus;
    }
  | {
      kind: AgentKind;
      id: string;
      live: boolean;
      at: number;
      project: string;
      machine: string;
      a: AgentSummary;
    };

function lastFolder(path: string | null): string {
  if (!path) return '';
  return (
    path
      .split(/[\\/]/)
      .filter((p) => p !== '')
      .at(-1) ?? ''
  );
}

/** How an agent's state reads through the builds' state filter. */
const AS_BUILD_STATE: Record<AgentSummary['state'], SessionState> = {
  working: 'active',
  waiting: 'active',
  idle: 'completed',
  ended: 'completed',
};

export function agentMatchesState(a: AgentSummary, state: SessionState | 'all'): boolean {
  return state === 'all' || AS_BUILD_STATE[a.state] === state;
}

/** Builds and agent sessions in one list: live ones first, then the most recent. */
export function mergeWork(builds: SessionStatus[], agents: AgentSummary[]): WorkItem[] {
  const items: WorkItem[] = [
    ...builds.map((s) => ({
      kind: 'build' as const,
      id: s.id,
      live: s.state === 'active',
      at: s.changedAt,
      project: lastFolder(s.projectDir),
      machine: s.host ?? '',
      s,
    })),
    ...agents.map((a) => ({
      kind: a.kind,
      id: a.id,
      live: a.state === 'working' || a.state === 'waiting',
      at: a.lastAt,
      project: a.project,
      machine: a.host ?? '',
      a,
    })),
  ];
  return items.sort((x, y) => Number(y.live) - Number(x.live) || y.at - x.at);
}

export function projectsOf(items: WorkItem[]): string[] {
  return [...new Set(items.map((i) => i.project).filter((p) => p !== ''))].sort();
}

/** The machines the builds and agents run on, for the machine filter. */
export function machinesOf(items: WorkItem[]): string[] {
  return [...new Set(items.map((i) => i.machine).filter((m) => m !== ''))].sort();
}

export function agentMatchesQuery(a: AgentSummary, q: string): boolean {
  if (q === '') return true;
  const lower = q.toLowerCase();
  return [a.id, a.title ?? '', a.project, a.model ?? '', a.gitBranch ?? ''].some((f) =>
    f.toLowerCase().includes(lower),
  );
}
