import type { SessionMetrics } from '../../../src/shared/metrics.ts';
import type { LogLine, SessionDetail, SessionStatus } from '../../../src/shared/model.ts';
import type { PlanDetail, PlanSummary } from '../../../src/shared/plans.ts';

const now = Date.now();
const min = 60_000;

function status(id: string, over: Partial<SessionStatus>): SessionStatus {
  return {
    id,
    sessionId: id,
    projectDir: `/home/dev/${id}`,
    source: 'file',
    currentPhase: 'Builder',
    phaseNumber: { raw: '5/7', current: 5, total: 7 },
    status: 'in_progress',
    state: 'active',
    progressDetail: 'Implementing components',
    testIteration: null,
    phasesCompleted: ['Codebase Analysis', 'Scout', 'Architect', 'Parallel Build Planning'],
    startedAt: now - 30 * min,
    reportedAt: now - min,
    firstSeenAt: now - 30 * min,
    changedAt: now - 3_000,
    progressPercent: 71,
    etaAt: now + 12 * min,
    warnings: [],
    extras: {},
    ...over,
  };
}

export const sessions: Record<string, SessionStatus> = {
  'weather-app': status('weather-app', {
    currentPhase: 'Test',
    phaseNumber: { raw: '4.5/8', current: 4.5, total: 8 },
    status: 'testing',
    testIteration: 2,
    progressPercent: 56,
    extras: { parallel_execution: true, tasks_completed: 7 },
    phasesCompleted: ['Codebase Analysis', 'Scout', 'Architect', 'Security Review', 'Builder'],
  }),
  '<img src=x onerror=alert(1)>': status('<img src=x onerror=alert(1)>', {
    changedAt: now - 6 * min,
  }),
  'todo-api': status('todo-api', {
    state: 'completed',
    status: 'completed',
    currentPhase: 'Deploy',
    changedAt: now - 2 * 3600_000,
    progressPercent: 100,
    etaAt: null,
  }),
  'chat-bot': status('chat-bot', {
    state: 'failed',
    status: 'failed',
    currentPhase: 'Test',
    changedAt: now - 40 * min,
    etaAt: null,
    warnings: [
      {
        code: 'invalid_json',
        message: 'current-phase.json was half written; kept the last good state',
        at: now - 41 * min,
      },
    ],
  }),
};

export const detail: SessionDetail = {
  status: sessions['weather-app'] as SessionStatus,
  timeline: [
    {
      phase: 'Codebase Analysis',
      phaseNumber: '1/8',
      startedAt: now - 30 * min,
      endedAt: now - 27 * min,
      durationMs: 3 * min,
    },
    {
      phase: 'Scout',
      phaseNumber: '2/8',
      startedAt: now - 27 * min,
      endedAt: now - 22 * min,
      durationMs: 5 * min,
    },
    {
      phase: 'Architect',
      phaseNumber: '3/8',
      startedAt: now - 22 * min,
      endedAt: now - 15 * min,
      durationMs: 7 * min,
    },
    {
      phase: 'Security Review',
      phaseNumber: '3.5/8',
      startedAt: now - 15 * min,
      endedAt: now - 13 * min,
      durationMs: 2 * min,
    },
    {
      phase: 'Builder',
      phaseNumber: '4/8',
      startedAt: now - 13 * min,
      endedAt: now - 4 * min,
      durationMs: 9 * min,
    },
    {
      phase: 'Test',
      phaseNumber: '4.5/8',
      startedAt: now - 4 * min,
      endedAt: null,
      durationMs: null,
    },
  ],
};

export const logs: { lines: LogLine[] } = {
  lines: Array.from({ length: 300 }, (_, i) => ({
    n: i + 1,
    at: now - (300 - i) * 1000,
    level: i % 37 === 0 ? 'error' : i % 11 === 0 ? 'warn' : 'info',
    text: `line ${i + 1}: <b>not bold</b> running step ${i}`,
  })),
};

let cin = 0;
let cout = 0;
export const metrics: SessionMetrics = {
  sessionId: 'weather-app',
  token_usage: {
    reason: null,
    data: {
      input: 84_000,
      output: 21_000,
      total: 105_000,
      budget: 200_000,
      percentOfBudget: 52.5,
      level: 'warning',
      model: 'claude-sonnet',
      contextPercent: 41,
      byPhase: {
        Scout: { input: 20_000, output: 4_000 },
        Builder: { input: 64_000, output: 17_000 },
      },
      series: Array.from({ length: 40 }, (_, i) => {
        cin += 2100;
        cout += 525;
        return {
          at: now - (40 - i) * 45_000,
          input: 2100,
          output: 525,
          cumulativeInput: cin,
          cumulativeOutput: cout,
          contextPercent: i,
          model: 'claude-sonnet',
          phase: 'Builder',
        };
      }),
    },
  },
  test_iterations: {
    reason: null,
    data: [
      {
        iteration: 1,
        total: 40,
        passed: 31,
        failed: 9,
        skipped: 0,
        durationMs: 42_000,
        source: 'test-results-iteration-1.md',
        updatedAt: now,
      },
      {
        iteration: 2,
        total: 40,
        passed: 38,
        failed: 1,
        skipped: 1,
        durationMs: 40_000,
        source: 'test-results-iteration-2.md',
        updatedAt: now,
      },
    ],
  },
  agent_performance: {
    data: null,
    reason: 'No agent updates were received for this session (POST /api/agent-update).',
  },
  decisions: {
    reason: null,
    data: [
      {
        id: 'i1',
        kind: 'issue',
        title: 'CORS blocked the API in tests',
        phase: 'Test',
        solution: 'Proxy /api in vite dev server',
        severity: 'high',
        source: 'feedback/build-feedback-1.json',
        updatedAt: now,
        details: {},
      },
    ],
  },
  warnings: [],
};

export const plans: Record<string, PlanSummary> = {
  'DEMO-PLAN': {
    id: 'DEMO-PLAN',
    name: 'DEMO-PLAN',
    status: 'needs_attention',
    progress: { done: 3, total: 8 },
    last: '1.3',
    next: ['1.4', '2.1'],
    needsAttention: true,
    changedAt: now - 5 * min,
  },
};

export const plan: PlanDetail = {
  ...(plans['DEMO-PLAN'] as PlanSummary),
  path: '/work/plans/DEMO-PLAN',
  parallelGroups: [['2.1', '2.2']],
  stats: {
    subplansCreated: 5,
    subplansWaiting: 1,
    executionsComplete: 4,
    executionsActive: 1,
    approvals: 3,
    fixes: 2,
    fixesOpen: 1,
  },
  health: { level: 'warning', reasons: ['1 fix open for 2 days'] },
  warnings: [],
  achievements: [
    {
      id: '1.2',
      title: '**Parser** ✨',
      indexed: true,
      status: 'fix_pending',
      subplans: ['SUBPLAN_DEMO-PLAN_12.md'],
      executions: ['EXECUTION_TASK_DEMO-PLAN_12_01.md'],
      approvals: [],
      fixes: ['FIX_12.md'],
      fixOpen: true,
      nextAction: 'Address FIX_12.md',
      dependencies: [],
      priority: 'high',
      estimatedHours: 3,
    },
    {
      id: '1.10',
      title: 'Store',
      indexed: true,
      status: 'approved',
      subplans: [],
      executions: [],
      approvals: ['APPROVED_110.md'],
      fixes: [],
      fixOpen: false,
      nextAction: null,
      dependencies: ['1.2'],
      priority: null,
      estimatedHours: null,
    },
  ],
};
