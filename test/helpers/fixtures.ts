import type { SessionStatus } from '../../src/shared/model.ts';

/** A small deterministic generator (mulberry32), so a failure can be replayed by its seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A plausible active session's status for tests and benchmarks; `fields` override. */
export function sessionStatus(id: string, fields: Partial<SessionStatus> = {}): SessionStatus {
  return {
    id,
    sessionId: id,
    projectDir: null,
    source: 'push',
    currentPhase: 'Builder',
    phaseNumber: { raw: null, current: null, total: null },
    status: 'in_progress',
    state: 'active',
    progressDetail: null,
    testIteration: null,
    phasesCompleted: [],
    startedAt: null,
    reportedAt: null,
    firstSeenAt: 0,
    changedAt: 0,
    progressPercent: null,
    etaAt: null,
    warnings: [],
    extras: {},
    ...fields,
  };
}
