/**
 * Replay corpus: builds as Context Foundry's producers write them, in our own
 * words. Facts carried over from the real producers (docs/formats.md): the
 * current template writes `session_id` only in the first document of a phase
 * group, ends every phase with `status: completed` on that phase, re-bases
 * its numbers (4/7 → 4.5/8), loops back to Builder on self-healing, ends with
 * GitHub Integration 7.5/8; LLM clocks are months off and often missing; a
 * failed build ends with `tests_failed_max_iterations`; the ralph runner's first
 * state.json already names the second phase and carries whole spec texts.
 */

import { TEMPLATES } from '../../src/shared/phases.ts';

/** The first `n` phases of the current template: what `phases_completed` lists after them. */
const doneBefore = (n: number): string[] => TEMPLATES['cf-github'].phases.slice(0, n);

/** One step of a replay and what the viewer must see after it. */
export interface Step {
  /** A current-phase.json document: written in place, or pushed with the same body. */
  doc?: Record<string, unknown>;
  /** Restart the server before this step (same database, same folders). */
  restart?: true;
  expect?: Seen;
}

/** What a viewer sees of the session after a step. */
export interface Seen {
  key: string;
  phase: string;
  state: 'active' | 'completed' | 'failed';
  progress: number | null;
  loops?: number;
}

/** Months off, as LLM-written clocks are; some documents leave it out. */
const LLM_START = '2025-01-13T00:30:00Z';

const builder = (fields: Record<string, unknown>) => ({
  current_phase: 'Builder',
  phase_number: '3/7',
  test_iteration: 0,
  phases_completed: doneBefore(2),
  ...fields,
});

/** The current template from Builder to GitHub Integration, with one self-healing loop. */
export function currentTemplate(project: string): Step[] {
  const k = project;
  return [
    {
      doc: builder({
        session_id: project,
        status: 'planning',
        progress_detail: 'Splitting the work into parallel tasks',
        started_at: LLM_START,
        last_updated: LLM_START,
      }),
      expect: { key: k, phase: 'Builder', state: 'active', progress: 42.9 },
    },
    {
      doc: builder({
        status: 'completed',
        progress_detail: 'Parallel build done (5 tasks, 3 workers)',
        phases_completed: doneBefore(3),
        parallel_execution: true,
        tasks_completed: 5,
      }),
      expect: { key: k, phase: 'Builder', state: 'active', progress: 42.9 },
    },
    {
      doc: {
        current_phase: 'Test',
        phase_number: '4/7',
        status: 'testing',
        test_iteration: 1,
        phases_completed: doneBefore(3),
        started_at: '2025-01-13T00:41:00Z',
      },
      expect: { key: k, phase: 'Test', state: 'active', progress: 57.1 },
    },
    {
      doc: {
        current_phase: 'Test',
        phase_number: '4/7',
        status: 'self-healing',
        progress_detail: 'Two tests failed, redesign (iteration 1)',
        test_iteration: 1,
        phases_completed: doneBefore(3),
      },
      expect: { key: k, phase: 'Test', state: 'active', progress: 57.1 },
    },
    {
      doc: builder({
        status: 'planning',
        progress_detail: 'Re-planning the fix',
        test_iteration: 1,
      }),
      expect: { key: k, phase: 'Builder', state: 'active', progress: 57.1, loops: 1 },
    },
    {
      doc: {
        current_phase: 'Test',
        phase_number: '4/7',
        status: 'completed',
        progress_detail: 'All tests pass',
        test_iteration: 2,
        phases_completed: doneBefore(4),
      },
      expect: { key: k, phase: 'Test', state: 'active', progress: 57.1, loops: 1 },
    },
    {
      doc: {
        current_phase: 'Screenshot',
        phase_number: '4.5/8',
        status: 'capturing',
        test_iteration: 2,
        phases_completed: doneBefore(4),
      },
      expect: { key: k, phase: 'Screenshot', state: 'active', progress: 57.1 },
    },
    { restart: true },
    {
      doc: {
        current_phase: 'Documentation',
        phase_number: '5/8',
        status: 'documenting',
        phases_completed: doneBefore(5),
      },
      expect: { key: k, phase: 'Documentation', state: 'active', progress: 62.5 },
    },
    {
      doc: {
        current_phase: 'Deploy',
        phase_number: '6/8',
        status: 'completed',
        phases_completed: doneBefore(7),
      },
      expect: { key: k, phase: 'Deploy', state: 'active', progress: 75 },
    },
    {
      doc: {
        current_phase: 'Feedback',
        phase_number: '7/8',
        status: 'completed',
        phases_completed: doneBefore(8),
      },
      expect: { key: k, phase: 'Feedback', state: 'active', progress: 87.5 },
    },
    {
      doc: {
        current_phase: 'GitHub Integration',
        phase_number: '7.5/8',
        status: 'configuring',
        phases_completed: doneBefore(8),
      },
      expect: { key: k, phase: 'GitHub Integration', state: 'active', progress: 93.8 },
    },
    {
      doc: {
        current_phase: 'GitHub Integration',
        phase_number: '7.5/8',
        status: 'completed',
        phases_completed: [...doneBefore(8), 'GitHub'],
      },
      expect: { key: k, phase: 'GitHub Integration', state: 'completed', progress: 100 },
    },
  ];
}

/** After the build above: a fresh build in the same folder is run 2; run 1 stays as it ended. */
export function secondRun(project: string): Step[] {
  return [
    {
      doc: builder({ session_id: project, status: 'planning', started_at: LLM_START }),
      expect: { key: `${project}-run2`, phase: 'Builder', state: 'active', progress: 42.9 },
    },
  ];
}

/** A build that gives up after its test iterations. */
export function failedBuild(project: string): Step[] {
  return [
    {
      doc: {
        session_id: project,
        current_phase: 'Test',
        phase_number: '4/7',
        status: 'testing',
        test_iteration: 3,
        phases_completed: doneBefore(3),
      },
      expect: { key: project, phase: 'Test', state: 'active', progress: 57.1 },
    },
    {
      doc: {
        current_phase: 'Test',
        phase_number: '4/7',
        status: 'tests_failed_max_iterations',
        test_iteration: 3,
        phases_completed: doneBefore(3),
      },
      expect: { key: project, phase: 'Test', state: 'failed', progress: 57.1 },
    },
  ];
}

/** The sequence of (phase, state, progress) a viewer must see, in order, without repeats. */
export function expectedSequence(steps: readonly Step[], key: string): string[] {
  const out: string[] = [];
  for (const s of steps) {
    if (!s.expect || s.expect.key !== key) continue;
    const line = seenLine(s.expect);
    if (out.at(-1) !== line) out.push(line);
  }
  return out;
}

export function seenLine(s: Pick<Seen, 'phase' | 'state' | 'progress'>): string {
  return `${s.phase}|${s.state}|${s.progress}`;
}

/** About 80 KB of spec text, as the ralph runner keeps in `artifacts`. */
export function bigArtifact(): string {
  const para = 'The tide table lists high and low water for each harbour, with heights in metres. ';
  return `# Research Report: tide tracker\n\n${para.repeat(1000)}`;
}
