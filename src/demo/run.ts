import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type DemoScenario, scenarioScript } from './scenarios.ts';
import { type DemoStep, demoAppName } from './script.ts';
import { createProject, type DemoProject, writeStep } from './writer.ts';

export interface DemoOptions {
  /** The demo writes into `<root>/livestream-demo/<project>/`. */
  root: string;
  /** Sessions building at once (default 1). */
  sessions?: number;
  /** Updates per second over all sessions; default `sessions × speed / 2` (one step per session every 2 s). */
  rate?: number;
  /** Time multiplier when no rate is given (default 1). */
  speed?: number;
  /** Stop once every session has completed; otherwise each finished session is followed by a new one. */
  once?: boolean;
  /** Suffix of session ids, unique per run by default. */
  tag?: string;
  /** Called on every phase change (and the completion). */
  onPhase?: (event: DemoPhaseEvent) => void;
  /** What the builds do (default `normal`; see `DemoScenario`). */
  scenario?: DemoScenario;
  /** Clock for file contents (tests). */
  now?: () => number;
}

export interface DemoPhaseEvent {
  sessionId: string;
  dir: string;
  phase: string;
  phaseNumber: string;
  status: string;
  detail: string;
}

export interface DemoSummary {
  /** Folder holding the demo projects. */
  dir: string;
  sessions: number;
  completed: number;
  updates: number;
}

/** Steps written concurrently at most, so high rates do not open too many files at once. */
const MAX_BATCH = 500;

interface Slot {
  index: number;
  project: DemoProject;
  script: DemoStep[];
}

/**
 * Runs the simulated builds until they are done (`once`) or `signal` aborts.
 * Steps are spread evenly: a token bucket at `rate` updates per second, round
 * robin over the sessions, so it doubles as a load generator.
 */
export async function runDemo(opts: DemoOptions, signal?: AbortSignal): Promise<DemoSummary> {
  const sessions = opts.sessions ?? 1;
  const speed = opts.speed ?? 1;
  const rate = opts.rate ?? (sessions * speed) / 2;
  const now = opts.now ?? Date.now;
  const tag = opts.tag ?? randomBytes(2).toString('hex');
  const dir = join(resolve(opts.root), 'livestream-demo');
  await mkdir(dir, { recursive: true });
  const summary: DemoSummary = { dir, sessions: 0, completed: 0, updates: 0 };
  let started = 0;
  const open = async (): Promise<Slot> => {
    const index = started++;
    const sessionId = `${demoAppName(index)}-${tag}`;
    const project = await createProject(join(dir, sessionId), sessionId, now());
    summary.sessions++;
    return {
      index,
      project,
      script: scenarioScript(opts.scenario ?? 'normal', demoAppName(index)),
    };
  };
  const slots: Slot[] = [];
  for (let i = 0; i < sessions; i++) slots.push(await open());
  const t0 = performance.now();
  let next = 0;
  while (slots.length > 0 && !signal?.aborted) {
    const due = Math.floor(((performance.now() - t0) * rate) / 1000) + 1 - summary.updates;
    // Distinct sessions step concurrently; one session's steps stay in order.
    const count = Math.min(due, slots.length, MAX_BATCH);
    const batch: Slot[] = [];
    for (let i = 0; i < count; i++) batch.push(slots[(next + i) % slots.length] as Slot);
    next = (next + count) % Math.max(1, slots.length);
    const finished = await Promise.all(batch.map((slot) => advance(slot, opts, now)));
    summary.updates += batch.length;
    for (let i = 0; i < batch.length; i++) {
      if (!finished[i]) continue;
      const slot = batch[i] as Slot;
      summary.completed++;
      const at = slots.indexOf(slot);
      if (opts.once) slots.splice(at, 1);
      else slots[at] = await open();
    }
    if (slots.length === 0 || signal?.aborted) break;
    // The next update is due at updates × 1000 / rate ms after the start.
    const wait = (summary.updates * 1000) / rate - (performance.now() - t0);
    if (wait > 0) await sleep(wait, signal);
  }
  return summary;
}

/** Writes a slot's next step; true when that was its last. */
async function advance(slot: Slot, opts: DemoOptions, now: () => number): Promise<boolean> {
  const { project, script } = slot;
  const step = script[project.step] as DemoStep;
  const previous = script[project.step - 1];
  await writeStep(project, step, previous, now());
  project.step++;
  if (!previous || previous.phase !== step.phase || step.status === 'completed') {
    opts.onPhase?.({
      sessionId: project.sessionId,
      dir: project.dir,
      phase: step.phase,
      phaseNumber: step.phaseNumber,
      status: step.status,
      detail: step.detail,
    });
  }
  return project.step >= script.length;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((done) => {
    if (signal?.aborted) return done();
    const timer = setTimeout(finish, ms);
    function finish() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', finish);
      done();
    }
    signal?.addEventListener('abort', finish, { once: true });
  });
}
