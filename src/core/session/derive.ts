import type {
  PhaseTransition,
  SessionSource,
  SessionStatus,
  SessionWarning,
} from '../../shared/model.ts';
import type { PhaseDocument } from './document.ts';
import { progressFromPhase } from './phase-number.ts';
import { endOf, loopsOf, templateOf } from './run.ts';
import { samePhase } from './state.ts';
import { estimateEta } from './timeline.ts';

/** What is known of one session: its status and the phase changes seen so far. */
export interface SessionRecord {
  status: SessionStatus;
  transitions: PhaseTransition[];
}

/** One good document for a session, from a file, a push or a checkpoint. */
export interface SessionUpdate {
  key: string;
  doc: PhaseDocument;
  source: SessionSource;
  projectDir: string | null;
  /** Trustworthy time of the update: file mtime or receipt time (epoch ms). */
  at: number;
  /** Which run of the project this session is (1 when absent). */
  run?: number;
  /** The document's pending end (Feedback 7/8 completed) has settled: the build ended there. */
  settled?: boolean;
  /** The machine the document came from; absent: the session keeps the one it has. */
  host?: string;
}

export interface UpdateResult {
  record: SessionRecord;
  /** False when the document derives the same status as before (an identical rewrite). */
  changed: boolean;
  transition: PhaseTransition | null;
  /** Every phase change this update added (a recovered previous phase, then the current one). */
  transitions?: PhaseTransition[];
  /** The document may be the build's end: settle it (`settled`) when nothing follows in time. */
  pendingEnd: boolean;
}

/** LLM times later than this past the trustworthy clock are dropped as wrong. */
export const CLOCK_SKEW_MS = 5 * 60_000;

/** Last path segment of a folder, for the `session_id` fallback. */
export function folderName(dir: string): string {
  const parts = dir.split(/[\\/]+/).filter((p) => p.length > 0);
  return parts.at(-1) ?? dir;
}

/** The producer's id, else the project folder's name, else the key. */
export function sessionIdOf(doc: PhaseDocument, projectDir: string | null, key: string): string {
  return doc.sessionId ?? (projectDir === null ? key : folderName(projectDir));
}

/**
 * Applies a good document to a session. Pure: the status holds nothing
 * derived from "now", and `changedAt` moves only when the derived status does.
 */
export function applyUpdate(prev: SessionRecord | null, update: SessionUpdate): UpdateResult {
  const { doc } = update;
  const before = prev?.status ?? null;
  // Whole milliseconds (mtimes are fractional); history stays ordered even
  // when an mtime lags a previous receipt time.
  const at = Math.round(before ? Math.max(update.at, before.changedAt) : update.at);
  const firstSeenAt = before?.firstSeenAt ?? at;
  const end = endOf(doc, update.source);
  const settled = end === 'pending' && update.settled === true;
  const state =
    end === 'failed' ? 'failed' : end === 'completed' || settled ? 'completed' : 'active';
  const template = templateOf(before?.template, doc, update.source, settled);
  const transitions: PhaseTransition[] = [...(prev?.transitions ?? [])];
  let transition: PhaseTransition | null = null;
  const addTransition = (to: string) => {
    const last = transitions.at(-1)?.to ?? before?.currentPhase ?? null;
    transition = {
      sessionKey: update.key,
      from: last,
      to,
      at,
      phaseNumber: to === doc.currentPhase ? doc.phaseNumber.raw : null,
      status: to === doc.currentPhase ? doc.status : 'completed',
    };
    transitions.push(transition);
  };
  // A checkpoint first seen after its first phase ran still shows that phase.
  const previous = doc.previousPhase ?? null;
  if (!before && previous !== null) addTransition(previous);
  if (!before || !samePhase(before.currentPhase, doc.currentPhase)) addTransition(doc.currentPhase);
  const computed =
    state === 'completed' ? 100 : (progressFromPhase(doc.phaseNumber, false) ?? doc.progressHint);
  // Progress within a build never goes back: re-based numbers (4/7 → 4.5/8) and
  // self-healing loops (back to Architect) keep the furthest point reached.
  const progressPercent =
    computed === null
      ? (before?.progressPercent ?? null)
      : Math.max(computed, before?.progressPercent ?? 0);
  const loops = loopsOf(transitions).at(-1) ?? 0;
  const candidate: SessionStatus = {
    id: update.key,
    sessionId: sessionIdOf(doc, update.projectDir ?? before?.projectDir ?? null, update.key),
    projectDir: update.projectDir ?? before?.projectDir ?? null,
    source: update.source,
    currentPhase: doc.currentPhase,
    phaseNumber: doc.phaseNumber,
    status: doc.status,
    state,
    progressDetail: doc.progressDetail,
    testIteration: doc.testIteration ?? before?.testIteration ?? null,
    phasesCompleted: doc.phasesCompleted,
    // The first start the LLM wrote in this run; later documents name their phase's start or none.
    startedAt: before?.startedAt ?? notAfter(doc.startedAt, firstSeenAt),
    reportedAt: notAfter(doc.reportedAt, at),
    firstSeenAt,
    changedAt: at,
    progressPercent,
    etaAt: estimateEta(transitions, doc.phaseNumber, state),
    warnings: before?.warnings ?? [],
    extras: doc.extras,
    run: update.run ?? before?.run ?? 1,
    template,
    loops,
  };
  const host = update.host ?? before?.host;
  if (host !== undefined) candidate.host = host;
  const pendingEnd = end === 'pending' && !settled;
  if (before && !transition && sameContent(before, candidate)) {
    return { record: prev as SessionRecord, changed: false, transition: null, pendingEnd };
  }
  const added = transitions.slice((prev?.transitions ?? []).length);
  return {
    record: { status: candidate, transitions },
    changed: true,
    transition: added.at(-1) ?? null,
    transitions: added,
    pendingEnd,
  };
}

/** Replaces a status's warnings; returns the same object when nothing differs. */
export function withWarnings(status: SessionStatus, warnings: SessionWarning[]): SessionStatus {
  if (canonical(status.warnings) === canonical(warnings)) return status;
  return { ...status, warnings };
}

function notAfter(value: number | null, reference: number): number | null {
  return value !== null && value > reference + CLOCK_SKEW_MS ? null : value;
}

/** Equal apart from when and from where it was last seen. */
export function sameContent(a: SessionStatus, b: SessionStatus): boolean {
  return canonical(strip(a)) === canonical(strip(b));
}

function strip(s: SessionStatus): Omit<SessionStatus, 'changedAt' | 'source' | 'warnings'> {
  const { changedAt: _c, source: _s, warnings: _w, ...rest } = s;
  return rest;
}

/** JSON with sorted keys, so key order in a producer's document does not matter. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
    return sorted;
  });
}
