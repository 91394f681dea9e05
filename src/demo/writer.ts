import { appendFile, mkdir, open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DemoStep } from './script.ts';

/** What one simulated session has written so far. */
export interface DemoProject {
  sessionId: string;
  dir: string;
  startedAt: number;
  /** Index of the next step to write. */
  step: number;
  eventSeq: number;
  totalInput: number;
  totalOutput: number;
  completed: string[];
}

const CONTEXT_WINDOW = 200_000;

/** Creates the project folder a session writes into. */
export async function createProject(
  dir: string,
  sessionId: string,
  now: number,
): Promise<DemoProject> {
  await mkdir(join(dir, '.context-foundry'), { recursive: true });
  await mkdir(join(dir, 'logs', `ralph_${sessionId}`), { recursive: true });
  await mkdir(join(dir, 'logs', 'events', sessionId), { recursive: true });
  return {
    sessionId,
    dir,
    startedAt: now,
    step: 0,
    eventSeq: 0,
    totalInput: 0,
    totalOutput: 0,
    completed: [],
  };
}

/**
 * Rewrites a file in place the way `cat > file <<EOF` does: truncate, then
 * write in two parts, so a reader can catch it empty or half written.
 */
export async function rewriteInPlace(path: string, text: string): Promise<void> {
  const handle = await open(path, 'w');
  try {
    const half = Math.floor(text.length / 2);
    await handle.write(text.slice(0, half));
    await handle.write(text.slice(half));
  } finally {
    await handle.close();
  }
}

/** An LLM-style timestamp: ISO without a zone, as the orchestrator often writes it. */
function llmTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19);
}

/** The current-phase.json document of a step, as the orchestrator writes it. */
export function phaseDocument(
  project: Pick<DemoProject, 'sessionId' | 'startedAt' | 'completed'>,
  step: DemoStep,
  now: number,
): Record<string, unknown> {
  return {
    session_id: project.sessionId,
    current_phase: step.phase,
    phase_number: step.phaseNumber,
    status: step.status,
    progress_detail: step.detail,
    ...(step.testIteration === undefined ? {} : { test_iteration: step.testIteration }),
    phases_completed: [...project.completed],
    started_at: llmTime(project.startedAt),
    last_updated: llmTime(now),
    ...step.extras,
  };
}

/** Writes everything one step produces: the phase file last, like the orchestrator. */
export async function writeStep(
  project: DemoProject,
  step: DemoStep,
  previous: DemoStep | undefined,
  now: number,
): Promise<void> {
  const cf = join(project.dir, '.context-foundry');
  if (previous && previous.phase !== step.phase) project.completed.push(previous.phase);
  const doc = phaseDocument(project, step, now);
  if (step.testResults) await writeTestResults(cf, step.testResults);
  if (step.feedback) await writeFeedback(cf, now);
  await rewriteInPlace(join(cf, 'current-phase.json'), `${JSON.stringify(doc, null, 2)}\n`);
  await appendTokens(project, step, now);
  await appendEvents(project, step, previous, now);
}

async function writeTestResults(
  cf: string,
  r: NonNullable<DemoStep['testResults']>,
): Promise<void> {
  const lines = [
    `# Test Results - Iteration ${r.iteration}`,
    '',
    '## Summary',
    `- Total: ${r.total}`,
    `- Passed: ${r.total - r.failed}`,
    `- Failed: ${r.failed}`,
    `- Duration: ${r.durationS}s`,
    '',
  ];
  if (r.failed > 0) {
    lines.push('## Failures', '');
    for (let i = 1; i <= r.failed; i++) {
      lines.push(`- test_case_${i}: AssertionError: expected 200, got 500`);
    }
  } else {
    lines.push('All tests PASSED.');
  }
  await rewriteInPlace(
    join(cf, `test-results-iteration-${r.iteration}.md`),
    `${lines.join('\n')}\n`,
  );
}

async function writeFeedback(cf: string, now: number): Promise<void> {
  await mkdir(join(cf, 'feedback'), { recursive: true });
  await mkdir(join(cf, 'patterns'), { recursive: true });
  const day = new Date(now).toISOString().slice(0, 10).replaceAll('-', '');
  const feedback = {
    issues_found: [
      {
        id: 'missing-env-validation',
        issue: 'API key read without validation crashed at start-up',
        detected_in_phase: 'Test',
        applies_to_phases: ['Architect', 'Builder'],
        solution_implemented: 'Validate configuration on start and fail with a clear message',
        severity: 'high',
      },
    ],
    successful_patterns: [
      {
        pattern: 'Parallel builders per module',
        phase: 'Builder',
        benefit: 'Build phase 40% shorter',
      },
    ],
  };
  await rewriteInPlace(
    join(cf, 'feedback', `build-feedback-${day}.json`),
    `${JSON.stringify(feedback, null, 2)}\n`,
  );
  const patterns = {
    patterns: [
      {
        pattern_id: 'env-validation',
        issue: 'Configuration used before it is validated',
        severity: 'high',
        occurrences: 1,
      },
    ],
  };
  await writeFile(
    join(cf, 'patterns', 'common-issues.json'),
    `${JSON.stringify(patterns, null, 2)}\n`,
  );
}

async function appendTokens(project: DemoProject, step: DemoStep, now: number): Promise<void> {
  const input = step.tokens?.input ?? 3000 + ((project.step * 7919) % 5000);
  const output = step.tokens?.output ?? 600 + ((project.step * 104_729) % 1400);
  project.totalInput += input;
  project.totalOutput += output;
  const line = {
    timestamp: new Date(now).toISOString(),
    prompt: `${step.phase}: ${step.detail}`,
    response: `Done: ${step.detail.toLowerCase()}`,
    metadata: {
      input_tokens: input,
      output_tokens: output,
      total_input: project.totalInput,
      total_output: project.totalOutput,
      context_percentage: Math.min(
        99,
        Math.round(((project.totalInput + project.totalOutput) / CONTEXT_WINDOW) * 1000) / 10,
      ),
      model: 'claude-sonnet-4',
    },
  };
  await appendFile(
    join(project.dir, 'logs', `ralph_${project.sessionId}`, 'session.jsonl'),
    `${JSON.stringify(line)}\n`,
  );
}

async function appendEvents(
  project: DemoProject,
  step: DemoStep,
  previous: DemoStep | undefined,
  now: number,
): Promise<void> {
  const events: { type: string; data: Record<string, unknown> }[] = [];
  if (!previous || previous.phase !== step.phase) {
    events.push({
      type: 'phase_change',
      data: { from: previous?.phase ?? null, to: step.phase, phase_number: step.phaseNumber },
    });
  }
  if (step.testResults) {
    events.push({ type: 'iteration_start', data: { iteration: step.testResults.iteration } });
    events.push({
      type: 'iteration_complete',
      data: {
        iteration: step.testResults.iteration,
        passed: step.testResults.total - step.testResults.failed,
        failed: step.testResults.failed,
      },
    });
  }
  if (typeof step.extras?.tasks_completed === 'number') {
    events.push({ type: 'task_complete', data: { tasks_completed: step.extras.tasks_completed } });
  }
  events.push({ type: 'log_line', data: { message: step.detail } });
  if (step.status === 'completed')
    events.push({ type: 'completion', data: { status: 'completed' } });
  const text = events
    .map((e) =>
      JSON.stringify({
        type: e.type,
        session_id: project.sessionId,
        timestamp: new Date(now).toISOString(),
        sequence: ++project.eventSeq,
        data: e.data,
      }),
    )
    .join('\n');
  await appendFile(
    join(project.dir, 'logs', 'events', project.sessionId, 'events.jsonl'),
    `${text}\n`,
  );
}
