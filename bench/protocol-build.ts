import type { LogLine, SessionDetail, SessionStatus, TimelineEntry } from '../src/shared/model.ts';

/** One simulated second of a scripted build: the states a producer would hand the hub. */
export interface BuildTick {
  /** Set when the session status changed this second. */
  detail: SessionDetail | null;
  lines: LogLine[];
}

const PHASES: { name: string; at: number; status: string }[] = [
  { name: 'Scout', at: 0, status: 'researching' },
  { name: 'Architect', at: 60, status: 'designing' },
  { name: 'Builder', at: 150, status: 'in_progress' },
  { name: 'Test', at: 330, status: 'testing' },
  { name: 'Documentation', at: 480, status: 'documenting' },
  { name: 'Deploy', at: 540, status: 'deploying' },
  { name: 'Feedback', at: 580, status: 'in_progress' },
];

/**
 * A 10-minute build, one tick per simulated second: 7 phases, a new
 * progress_detail every 5 s, three test iterations, a log line every 2 s,
 * completion at 600 s. Timestamps start at `t0`.
 */
export function* scriptedBuild(id: string, t0: number, seconds = 600): Generator<BuildTick> {
  const timeline: TimelineEntry[] = [];
  let phaseIndex = -1;
  let iteration: number | null = null;
  let detail = '';
  let lineNo = 0;
  for (let s = 0; s <= seconds; s++) {
    const now = t0 + s * 1000;
    let changed = false;
    const next = PHASES[phaseIndex + 1];
    if (next && s >= next.at) {
      const last = timeline.at(-1);
      if (last)
        timeline[timeline.length - 1] = { ...last, endedAt: now, durationMs: now - last.startedAt };
      phaseIndex++;
      timeline.push({
        phase: next.name,
        phaseNumber: `${phaseIndex + 1}/7`,
        startedAt: now,
        endedAt: null,
        durationMs: null,
      });
      changed = true;
    }
    const phase = PHASES[phaseIndex] ?? (PHASES[0] as (typeof PHASES)[number]);
    if (phase.name === 'Test' && [330, 400, 440].includes(s)) {
      iteration = (iteration ?? 0) + 1;
      changed = true;
    }
    if (s % 5 === 0) {
      detail = `${phase.name}: step ${Math.floor(s / 5)} — working on src/module-${s % 37}.ts`;
      changed = true;
    }
    const done = s === seconds;
    if (done) changed = true;
    const lines: LogLine[] = [];
    if (s % 2 === 0) {
      lines.push({
        n: lineNo++,
        at: now,
        level: 'info',
        text: `[${phase.name}] ${detail} (tool call ${lineNo}, 1,234 tokens)`,
      });
    }
    let tick: SessionDetail | null = null;
    if (changed) {
      const status: SessionStatus = {
        id,
        sessionId: id,
        projectDir: `/home/dev/projects/${id}`,
        source: 'file',
        currentPhase: done ? 'Complete' : phase.name,
        phaseNumber: { raw: `${phaseIndex + 1}/7`, current: phaseIndex + 1, total: 7 },
        status: done ? 'completed' : phase.status,
        state: done ? 'completed' : 'active',
        progressDetail: done ? 'Build complete' : detail,
        testIteration: iteration,
        phasesCompleted: PHASES.slice(0, done ? 7 : phaseIndex).map((p) => p.name),
        startedAt: t0,
        reportedAt: now,
        firstSeenAt: t0,
        changedAt: now,
        progressPercent: Math.round(((done ? 7 : phaseIndex) / 7) * 100),
        etaAt: done ? null : t0 + 600_000,
        warnings: [],
        extras: {},
      };
      tick = { status, timeline: [...timeline] };
    }
    yield { detail: tick, lines };
  }
}
