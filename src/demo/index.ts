export type { DemoOptions, DemoPhaseEvent, DemoSummary } from './run.ts';
export { runDemo } from './run.ts';
export type { DemoScenario } from './scenarios.ts';
export { DEMO_SCENARIOS, scenarioScript } from './scenarios.ts';
export type { DemoStep } from './script.ts';
export { buildScript, DEMO_APPS, demoAppName } from './script.ts';
export { phaseDocument } from './writer.ts';
