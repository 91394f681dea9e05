/**
 * The phase vocabulary of the builds Livestream reads, declared once: core
 * derives end, progress and loops from it, web and TUI draw the phase strip
 * from it. Facts from Context Foundry's orchestrator templates over their
 * history (docs/formats.md §1).
 */

/** Every phase name a Context Foundry template writes, in workflow order. */
export const CANONICAL_PHASES: readonly string[] = [
  'Codebase Analysis',
  'Scout',
  'Architect',
  'Builder',
  'Test',
  'Screenshot',
  'Documentation',
  'Deploy',
  'Feedback',
  'GitHub Integration',
];

/** A template version: the phases its builds go through, the last one ending the build. */
export interface BuildTemplate {
  id: TemplateId;
  label: string;
  phases: readonly string[];
}

export type TemplateId = 'cf-7' | 'cf-8' | 'cf-github' | 'ralph';

/**
 * - `cf-7`: Scout 1/7 … Feedback 7/7 (Oct 2025 first numbered template; real
 *   committed documents also end with `"current_phase": "Complete"`, 7/7).
 * - `cf-8`: adds Screenshot 4.5/8, Feedback 7/8 ends the build.
 * - `cf-github`: the current template, GitHub Integration 7.5/8 after Feedback.
 * - `ralph`: the legacy runner's checkpoints (scout, architect, builder, complete).
 * Codebase Analysis (0/7) runs only in enhancement modes; it is shown when seen.
 */
export const TEMPLATES: Record<TemplateId, BuildTemplate> = {
  'cf-7': {
    id: 'cf-7',
    label: 'Context Foundry, 7 phases',
    phases: ['Scout', 'Architect', 'Builder', 'Test', 'Documentation', 'Deploy', 'Feedback'],
  },
  'cf-8': {
    id: 'cf-8',
    label: 'Context Foundry, 8 phases',
    phases: [
      'Scout',
      'Architect',
      'Builder',
      'Test',
      'Screenshot',
      'Documentation',
      'Deploy',
      'Feedback',
    ],
  },
  'cf-github': {
    id: 'cf-github',
    label: 'Context Foundry, with GitHub Integration',
    phases: [
      'Scout',
      'Architect',
      'Builder',
      'Test',
      'Screenshot',
      'Documentation',
      'Deploy',
      'Feedback',
      'GitHub Integration',
    ],
  },
  ralph: { id: 'ralph', label: 'Ralph runner', phases: ['Scout', 'Architect', 'Builder'] },
};

/** Names other writers (and `phases_completed` lists) use for canonical phases. */
const ALIASES: Record<string, string> = {
  tester: 'Test',
  'test loop': 'Test',
  testing: 'Test',
  tests: 'Test',
  deployer: 'Deploy',
  deployment: 'Deploy',
  build: 'Builder',
  docs: 'Documentation',
  github: 'GitHub Integration',
  'parallel build planning': 'Builder',
  'integration pre check': 'Builder',
  'integration precheck': 'Builder',
};

const CANONICAL_BY_KEY = new Map(CANONICAL_PHASES.map((p) => [p.toLowerCase(), p]));

/** Pseudo-phases some writers use once the work is over; they are not steps. */
const TERMINAL = new Set(['complete', 'completed', 'done', 'finished', 'failed', '']);

function keyOf(name: string): string {
  return name
    .trim()
    .toLowerCase()
    .replace(/[_\s-]+/g, ' ');
}

/** Maps "scout", "Tester", "GitHub" to their canonical name; unknown names are kept verbatim. */
export function canonicalPhase(name: string): string {
  const key = keyOf(name);
  return CANONICAL_BY_KEY.get(key) ?? ALIASES[key] ?? name.trim();
}

/** "Complete", "done", …: a name written once the build is over, not a step. */
export function isTerminalPhase(name: string): boolean {
  return TERMINAL.has(keyOf(name));
}

/**
 * The phases to draw for a build: its template's, with Codebase Analysis in
 * front when it ran, and any phase the template does not know inserted
 * right after the phase observed before it.
 */
export function templatePhases(template: TemplateId, observed: readonly string[]): string[] {
  const order = [...TEMPLATES[template].phases];
  if (observed.some((p) => canonicalPhase(p) === 'Codebase Analysis')) {
    order.unshift('Codebase Analysis');
  }
  let previous: string | null = null;
  for (const raw of observed) {
    if (isTerminalPhase(raw)) continue;
    const name = canonicalPhase(raw);
    if (!order.includes(name)) {
      const at = previous === null ? 0 : order.indexOf(previous) + 1;
      order.splice(at, 0, name);
    }
    previous = name;
  }
  return order;
}
