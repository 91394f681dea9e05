/**
 * The plan dashboard's actions as the views and the host share them: names,
 * labels, the configuration the help screen shows and a run's progress. The
 * host runs them (`src/sources/plans/actions.ts`); views only name them.
 */

/** The three actions of the plan screen. */
export type PlanActionName = 'executeNext' | 'createSubplan' | 'createExecution';

export const ACTION_LABELS: Record<PlanActionName, string> = {
  executeNext: 'Execute next',
  createSubplan: 'Create subplan',
  createExecution: 'Create execution',
};

export interface ActionsConfig {
  commands: Record<PlanActionName, string[]>;
  /** Actions that get the terminal while they run (the dashboard steps aside). */
  terminal?: Record<PlanActionName, boolean>;
  /** Where commands run. */
  cwd: string;
  timeoutMs: number;
  /** Where the config came from, for the help screen. */
  source: string;
}

export interface ActionRun {
  label: string;
  argv: string[];
  /** Output lines (stdout and stderr interleaved), the last 200. */
  lines: string[];
  /** Null while running. */
  exitCode: number | null;
  /** Set when the command could not start or was killed. */
  error: string | null;
  running: boolean;
}
