/** One update of a simulated build: what the orchestrator would write next. */
export interface DemoStep {
  phase: string;
  phaseNumber: string;
  status: string;
  detail: string;
  testIteration?: number;
  extras?: Record<string, unknown>;
  /** Writes `test-results-iteration-N.md` with these figures. */
  testResults?: { iteration: number; total: number; failed: number; durationS: number };
  /** Writes the feedback and common-issues files. */
  feedback?: boolean;
  /** Tokens this step spends (default: a few thousand, varying). */
  tokens?: { input: number; output: number };
}

/**
 * The phases of a build as the real orchestrator runs them, fractional
 * numbers included, with a test loop that fails once and then passes, and a
 * completion. Every step is one rewrite of current-phase.json.
 */
export function buildScript(app: string): DemoStep[] {
  return [
    {
      phase: 'Codebase Analysis',
      phaseNumber: '1/8',
      status: 'analyzing',
      detail: 'Reading the repository layout',
    },
    {
      phase: 'Scout',
      phaseNumber: '2/8',
      status: 'researching',
      detail: `Researching libraries for ${app}`,
    },
    {
      phase: 'Architect',
      phaseNumber: '3/8',
      status: 'designing',
      detail: 'Designing modules and data flow',
    },
    {
      phase: 'Parallel Build Planning',
      phaseNumber: '4/8',
      status: 'planning',
      detail: 'Splitting the build into 3 parallel tasks',
      extras: { parallel_execution: true },
    },
    {
      phase: 'Builder',
      phaseNumber: '4.5/8',
      status: 'in_progress',
      detail: 'Building task 1 of 3',
      extras: { parallel_execution: true, tasks_completed: 1 },
    },
    {
      phase: 'Builder',
      phaseNumber: '4.5/8',
      status: 'in_progress',
      detail: 'Building task 3 of 3',
      extras: { parallel_execution: true, tasks_completed: 3 },
    },
    {
      phase: 'Integration Pre-Check',
      phaseNumber: '5/8',
      status: 'configuring',
      detail: 'Wiring modules together',
    },
    {
      phase: 'Test',
      phaseNumber: '6/8',
      status: 'testing',
      detail: 'Running test suite',
      testIteration: 1,
      testResults: { iteration: 1, total: 24, failed: 3, durationS: 3.4 },
    },
    {
      phase: 'Test',
      phaseNumber: '6/8',
      status: 'self-healing',
      detail: 'Fixing 3 failing tests',
      testIteration: 1,
    },
    {
      phase: 'Test',
      phaseNumber: '6/8',
      status: 'testing',
      detail: 'Re-running test suite',
      testIteration: 2,
      testResults: { iteration: 2, total: 24, failed: 0, durationS: 3.1 },
    },
    {
      phase: 'Screenshot',
      phaseNumber: '6.5/8',
      status: 'capturing',
      detail: 'Capturing screenshots',
      testIteration: 2,
    },
    {
      phase: 'Documentation',
      phaseNumber: '7/8',
      status: 'documenting',
      detail: 'Writing README and usage docs',
      testIteration: 2,
    },
    {
      phase: 'Deploy',
      phaseNumber: '7.5/8',
      status: 'deploying',
      detail: 'Publishing the build',
      testIteration: 2,
    },
    {
      phase: 'Feedback',
      phaseNumber: '8/8',
      status: 'in_progress',
      detail: 'Recording lessons learned',
      testIteration: 2,
      feedback: true,
    },
    {
      phase: 'Feedback',
      phaseNumber: '8/8',
      status: 'completed',
      detail: 'Build complete',
      testIteration: 2,
    },
  ];
}

/** Project names the demo builds; more sessions than names get numbered. */
export const DEMO_APPS = [
  'weather-app',
  'todo-api',
  'chat-bot',
  'image-resizer',
  'budget-tracker',
  'recipe-finder',
  'markdown-wiki',
  'url-shortener',
] as const;

/** The name of the i-th demo project (0-based). */
export function demoAppName(i: number): string {
  const base = DEMO_APPS[i % DEMO_APPS.length] as string;
  const round = Math.floor(i / DEMO_APPS.length);
  return round === 0 ? base : `${base}-${round + 1}`;
}
