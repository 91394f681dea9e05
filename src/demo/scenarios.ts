import { buildScript, type DemoStep } from './script.ts';

/**
 * What the simulated builds do. `normal` is the full build; the others are
 * the troubles attention must catch:
 * - `stuck`: reaches Builder and keeps writing logs and a little token use, but never moves on;
 * - `test-loop`: the tests keep failing, iteration after iteration, with self-healing between;
 * - `runaway`: stays in Builder burning tokens fast (40,000 a step).
 * None of them completes: when the script ends the producer stops writing.
 */
export type DemoScenario = 'normal' | 'stuck' | 'test-loop' | 'runaway';

export const DEMO_SCENARIOS: readonly DemoScenario[] = ['normal', 'stuck', 'test-loop', 'runaway'];

/** Steps repeated by the scenarios that do not move on. */
const REPEATS = 40;

function upTo(app: string, phase: string): DemoStep[] {
  const script = buildScript(app);
  const at = script.findIndex((s) => s.phase === phase);
  return script.slice(0, at + 1);
}

/** The steps of one session in a scenario. */
export function scenarioScript(scenario: DemoScenario, app: string): DemoStep[] {
  if (scenario === 'normal') return buildScript(app);
  if (scenario === 'test-loop') {
    const steps = upTo(app, 'Integration Pre-Check');
    for (let i = 1; i <= REPEATS / 2; i++) {
      steps.push(
        {
          phase: 'Test',
          phaseNumber: '6/8',
          status: 'testing',
          detail: `Running test suite (iteration ${i})`,
          testIteration: i,
          testResults: { iteration: i, total: 24, failed: 3, durationS: 3.2 },
        },
        {
          phase: 'Test',
          phaseNumber: '6/8',
          status: 'self-healing',
          detail: `Fixing 3 failing tests (iteration ${i})`,
          testIteration: i,
        },
      );
    }
    return steps;
  }
  const steps = upTo(app, 'Builder');
  const builder = steps.at(-1) as DemoStep;
  const tokens =
    scenario === 'runaway' ? { input: 32_000, output: 8000 } : { input: 300, output: 60 };
  for (let i = 0; i < REPEATS; i++) steps.push({ ...builder, tokens });
  return steps;
}
