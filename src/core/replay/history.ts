import type { TestIteration } from '../../shared/metrics.ts';
import type { PhaseTransition, SessionState } from '../../shared/model.ts';
import type { HistoryTransition } from '../../shared/replay.ts';
import { parsePhaseNumber, progressFromPhase } from '../session/phase-number.ts';
import { stateFromStatus } from '../session/state.ts';

/** Stored transitions as replay needs them: in time order, with phase number, state and progress derived. */
export function historyTransitions(transitions: readonly PhaseTransition[]): HistoryTransition[] {
  const sorted = [...transitions].sort((a, b) => a.at - b.at);
  return sorted.map((t) => {
    const phaseNumber = parsePhaseNumber(t.phaseNumber);
    const state: SessionState = stateFromStatus(t.status);
    return {
      at: t.at,
      phase: t.to,
      phaseNumber,
      status: t.status,
      state,
      progressPercent: progressFromPhase(phaseNumber, state === 'completed'),
    };
  });
}

/** Test iterations in the order they were written. */
export function testsByTime(tests: readonly TestIteration[]): TestIteration[] {
  return [...tests].sort((a, b) => a.updatedAt - b.updatedAt || a.iteration - b.iteration);
}
