import type {
  PhaseTransition,
  SessionSource,
  SessionStatus,
  SessionWarning,
} from '../../shared/model.ts';
import type { PhaseDocument } from './document.ts';
import { progressFromPhase } from './phase-number.ts';
import { samePhase, stateFromStatus } from './state.ts';
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
}

export interface UpdateResult {
  record: SessionRecord;
  /** False when the document derives the same status as before (an identical rewrite). */
  changed: boolean;
  transition: PhaseTransition | null;
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
  // Keeps history ordered even when an mtime lags a previous receipt time.
  const at = before ? Math.max(update.at, before.changedAt) : update.at;
  const firstSeenAt = before?.firstSeenAt ?? at;
  const state = stateFromStatus(doc.status);
  let transition: PhaseTransition | null = null;
  if (!before || !samePhase(before.currentPhase, doc.currentPhase)) {
    transition = {
      sessionKey: update.key,
      from: before?.currentPhase ?? null,
      to: doc.currentPhase,
      at,
      phaseNumber: doc.phaseNumber.raw,
      status: doc.status,
    };
  }
  const transitions = transition
    ? [...(prev?.transitions ?? []), transition]
    : (prev?.transitions ?? []);
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
    testIteration: doc.testIteration,
    phasesCompleted: doc.phasesCompleted,
    startedAt: notAfter(doc.startedAt, firstSeenAt),
    reportedAt: notAfter(doc.reportedAt, at),
    firstSeenAt,
    changedAt: at,
    progressPercent: progressFromPhase(doc.phaseNumber, state === 'completed') ?? doc.progressHint,
    etaAt: estimateEta(transitions, doc.phaseNumber, state),
    warnings: before?.warnings ?? [],
    extras: doc.extras,
  };
  if (before && !transition && sameContent(before, candidate)) {
    return { record: prev as SessionRecord, changed: false, transition: null };
  }
  return { record: { status: candidate, transitions }, changed: true, transition };
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
