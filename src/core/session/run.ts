import type { PhaseTransition, SessionStatus } from '../../shared/model.ts';
import {
  canonicalPhase,
  isTerminalPhase,
  TEMPLATES,
  type TemplateId,
} from '../../shared/phases.ts';
import type { PhaseDocument } from './document.ts';
import { samePhase, stateFromStatus } from './state.ts';

/**
 * What one document says about the end of the build (docs/formats.md §1.2):
 * - `failed`: a failed status (`failed`, `error`, `tests_failed_max_iterations`, …), in any phase;
 * - `completed`: a completion on the build's last phase — a terminal phase name
 *   (`"current_phase": "Complete"`), the phase number at its total (`7/7`), GitHub
 *   Integration, or a checkpoint whose COMPLETE flag or `complete` phase is set;
 * - `pending`: Feedback completed at `7/8` — the last phase of the 8-phase
 *   template but not of the current one, where GitHub Integration follows: the
 *   build has ended when no further document comes within the settle time;
 * - `null`: between phases or working (a phase's own `completed` included).
 */
export type BuildEnd = 'completed' | 'failed' | 'pending' | null;

export function endOf(doc: PhaseDocument, source: SessionStatus['source']): BuildEnd {
  const state = stateFromStatus(doc.status);
  if (state === 'failed') return 'failed';
  if (isTerminalPhase(doc.currentPhase) && doc.currentPhase.trim() !== '') {
    return doc.currentPhase.trim().toLowerCase() === 'failed' ? 'failed' : 'completed';
  }
  if (state !== 'completed') return null;
  if (source === 'checkpoint') return 'completed';
  const phase = canonicalPhase(doc.currentPhase);
  if (phase === 'GitHub Integration') return 'completed';
  const { current, total } = doc.phaseNumber;
  if (current !== null && total !== null && current >= total) return 'completed';
  if (phase === 'Feedback') return 'pending';
  return null;
}

/**
 * The template version a run's documents show, refined as documents come:
 * a checkpoint is the ralph runner; GitHub Integration, or a phase numbered
 * over 8, is the current template; Documentation, Deploy or Feedback numbered
 * over 7 is the 7-phase one; otherwise the current template is assumed.
 * `endedAtFeedback` marks a run whose pending end settled (the 8-phase one).
 */
export function templateOf(
  previous: TemplateId | undefined,
  doc: PhaseDocument,
  source: SessionStatus['source'],
  endedAtFeedback = false,
): TemplateId {
  if (source === 'checkpoint' || previous === 'ralph') return 'ralph';
  if (endedAtFeedback) return 'cf-8';
  const phases = [doc.currentPhase, ...doc.phasesCompleted].map(canonicalPhase);
  if (phases.includes('GitHub Integration')) return 'cf-github';
  if (previous === 'cf-7' || previous === 'cf-8') return previous;
  const phase = canonicalPhase(doc.currentPhase);
  const { current, total } = doc.phaseNumber;
  if (total === 7 && current !== null && current >= 5 && phase !== 'Codebase Analysis') {
    return 'cf-7';
  }
  return 'cf-github';
}

/**
 * True when a document for an existing session is really the start of a new
 * build in the same folder: the previous run had ended (completed or failed)
 * and this is not the same ending written again; or it is a fresh start
 * (Scout or Codebase Analysis, nothing completed) after the run had got past
 * the design phases.
 */
export function startsNewRun(before: SessionStatus, doc: PhaseDocument): boolean {
  if (before.source === 'checkpoint') return before.state !== 'active' && !sameEnding(before, doc);
  if (before.state !== 'active') return !sameEnding(before, doc);
  const phase = canonicalPhase(doc.currentPhase);
  const fresh =
    (phase === 'Scout' || phase === 'Codebase Analysis') && doc.phasesCompleted.length === 0;
  const advanced = before.phasesCompleted.map(canonicalPhase).some((p) => later(p, 'Architect'));
  return fresh && advanced;
}

function sameEnding(before: SessionStatus, doc: PhaseDocument): boolean {
  return (
    samePhase(before.currentPhase, doc.currentPhase) &&
    before.status.trim().toLowerCase() === doc.status.trim().toLowerCase() &&
    before.phaseNumber.raw === doc.phaseNumber.raw
  );
}

const ORDER = TEMPLATES['cf-github'].phases;

function later(a: string, b: string): boolean {
  return ORDER.indexOf(a) > ORDER.indexOf(b) && ORDER.indexOf(b) >= 0;
}

/** Position of a phase in the workflow; Codebase Analysis first, unknown phases -1. */
function rank(phase: string): number {
  const name = canonicalPhase(phase);
  if (name === 'Codebase Analysis') return 0;
  const i = ORDER.indexOf(name);
  return i < 0 ? -1 : i + 1;
}

/**
 * The loop each transition belongs to: a transition back to a phase at or
 * before one the run already left (Test → Builder on self-healing) starts a
 * new loop. Unknown phases stay in the loop they occur in.
 */
export function loopsOf(transitions: readonly PhaseTransition[]): number[] {
  const out: number[] = [];
  let loop = 0;
  let furthest = -1;
  for (const t of transitions) {
    const r = rank(t.to);
    if (r >= 0 && r < furthest && t.from !== null) loop++;
    if (r > furthest) furthest = r;
    out.push(loop);
  }
  return out;
}
