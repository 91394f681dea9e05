import type { ServerProcess } from './server.ts';
import { phaseDoc } from './server.ts';

/** A realistic session: phase file, token log, events, two test runs, feedback; and a plan folder. */
export async function writeRichSession(server: ServerProcess, id: string): Promise<void> {
  const t0 = Date.now() - 40 * 60_000;
  await server.writePhase(
    id,
    phaseDoc(id, {
      current_phase: 'Test',
      phase_number: '4.5/8',
      status: 'self-healing',
      progress_detail: 'Fixing 2 failing tests',
      test_iteration: 2,
      phases_completed: ['Codebase Analysis', 'Scout', 'Architect', 'Security Review', 'Builder'],
      parallel_execution: true,
      tasks_completed: 7,
    }),
  );
  let totalIn = 0;
  let totalOut = 0;
  const session = Array.from({ length: 30 }, (_, i) => {
    const input = 1500 + ((i * 397) % 900);
    const output = 300 + ((i * 211) % 400);
    totalIn += input;
    totalOut += output;
    return JSON.stringify({
      timestamp: new Date(t0 + i * 70_000).toISOString(),
      prompt: `step ${i}`,
      response: 'ok',
      metadata: {
        input_tokens: input,
        output_tokens: output,
        total_input: totalIn,
        total_output: totalOut,
        context_percentage: Math.min(95, i * 3),
        model: 'claude-sonnet-4',
      },
    });
  });
  await server.writeFile(`logs/ralph_${id}/session.jsonl`, `${session.join('\n')}\n`);
  const events = Array.from({ length: 60 }, (_, i) =>
    JSON.stringify({
      type: i % 20 === 0 ? 'phase_change' : 'log_line',
      session_id: id,
      timestamp: new Date(t0 + i * 30_000).toISOString(),
      sequence: i,
      data:
        i % 20 === 0
          ? { from: 'Scout', to: 'Architect' }
          : { line: `builder: compiled module ${i} <ok>` },
    }),
  );
  await server.writeFile(`logs/events/${id}/events.jsonl`, `${events.join('\n')}\n`);
  await server.writeFile(
    `${id}/.context-foundry/test-results-iteration-1.md`,
    '# Iteration 1\n\nTests: 31 passed, 9 failed, 40 total\nTime: 42s\n',
  );
  await server.writeFile(
    `${id}/.context-foundry/test-results-iteration-2.md`,
    '# Iteration 2\n\nTests: 38 passed, 2 failed, 40 total\nTime: 40s\n',
  );
  await server.writeFile(
    `${id}/.context-foundry/feedback/build-feedback-1.json`,
    JSON.stringify({
      issues_found: [
        {
          id: 'cors-1',
          issue: 'CORS blocked the API during tests',
          detected_in_phase: 'Test',
          applies_to_phases: ['Builder'],
          solution_implemented: 'Proxy /api through the dev server',
        },
      ],
      successful_patterns: [{ pattern: 'Small components with one hook each' }],
    }),
  );
}

export async function writePlan(server: ServerProcess, name: string): Promise<void> {
  const dir = `work-space/plans/${name}`;
  await server.writeFile(
    `${dir}/PLAN_${name}.md`,
    `# ${name}\n\n## 📋 Achievement Index\n\n- Achievement 1.1: Parser ✨\n- Achievement 1.2: **Store**\n- Achievement 1.10: Web view\n- Achievement 2.1: Deploy\n`,
  );
  await server.writeFile(`${dir}/subplans/SUBPLAN_${name}_11.md`, '# sub\n');
  await server.writeFile(`${dir}/execution/EXECUTION_TASK_${name}_11_01.md`, '# exec\n');
  await server.writeFile(`${dir}/execution/feedbacks/APPROVED_11.md`, 'ok\n');
  await server.writeFile(`${dir}/subplans/SUBPLAN_${name}_12.md`, '# sub\n');
  await server.writeFile(`${dir}/execution/EXECUTION_TASK_${name}_12_01.md`, '# exec\n');
  await server.writeFile(`${dir}/execution/feedbacks/FIX_12.md`, 'fix the schema\n');
  await server.writeFile(`${dir}/subplans/SUBPLAN_${name}_110.md`, '# sub\n');
}
