import type { PhaseTransition, SessionStatus } from '../../shared/model.ts';
import type { PhaseDocument } from './document.ts';
import { cutText, summariseExtras } from './extras.ts';

/**
 * How much of each field a status carries. A status goes to every viewer of
 * the sessions list on every change and into the history on every
 * transition, so one producer writing a megabyte into a phase name or the
 * detail line must not make it a megabyte: longer values are cut (with `…`),
 * and the whole document stays in the store, served by
 * `GET /api/sessions/:id/extras`. Real values are far shorter: phase names
 * are a few words, details a sentence or two.
 */
export const FIELD_LIMITS = {
  /** `current_phase`, each of `phases_completed`, `last_phase`. */
  phase: 120,
  status: 120,
  /** `phase_number` as written ("4.5/8"). */
  phaseNumber: 32,
  progressDetail: 1000,
  /** Entries of `phases_completed` kept (templates have 7–9 phases). */
  phasesCompleted: 32,
} as const;

/**
 * A document with every field within `FIELD_LIMITS` and its extras
 * summarised and bounded (`summariseExtras`); `extrasOmitted` counts the
 * extra fields not shown in full.
 */
export function boundDocument(
  doc: Omit<PhaseDocument, 'extras' | 'extrasOmitted'>,
  extras: Record<string, unknown>,
): PhaseDocument {
  const bounded = summariseExtras(extras);
  const phaseNumber =
    doc.phaseNumber.raw !== null && doc.phaseNumber.raw.length > FIELD_LIMITS.phaseNumber
      ? { ...doc.phaseNumber, raw: cutText(doc.phaseNumber.raw, FIELD_LIMITS.phaseNumber) }
      : doc.phaseNumber;
  const out: PhaseDocument = {
    ...doc,
    currentPhase: cutText(doc.currentPhase, FIELD_LIMITS.phase),
    phaseNumber,
    status: cutText(doc.status, FIELD_LIMITS.status),
    progressDetail:
      doc.progressDetail === null ? null : cutText(doc.progressDetail, FIELD_LIMITS.progressDetail),
    phasesCompleted: doc.phasesCompleted
      .slice(-FIELD_LIMITS.phasesCompleted)
      .map((p) => cutText(p, FIELD_LIMITS.phase)),
    extras: bounded.extras,
  };
  if (doc.previousPhase) out.previousPhase = cutText(doc.previousPhase, FIELD_LIMITS.phase);
  if (bounded.omitted > 0) out.extrasOmitted = bounded.omitted;
  return out;
}

/**
 * A stored status (or transition) within the same limits: history written
 * before the limits existed can hold megabyte fields, and would otherwise
 * bring them back on every restart. Unchanged values keep their identity.
 */
export function boundStatus(status: SessionStatus): SessionStatus {
  const doc = boundDocument(
    {
      sessionId: status.sessionId,
      currentPhase: status.currentPhase,
      phaseNumber: status.phaseNumber,
      status: status.status,
      progressDetail: status.progressDetail,
      testIteration: status.testIteration,
      phasesCompleted: status.phasesCompleted,
      startedAt: status.startedAt,
      reportedAt: status.reportedAt,
      progressHint: null,
    },
    status.extras,
  );
  const omitted = Math.max(status.extrasOmitted ?? 0, doc.extrasOmitted ?? 0);
  const same =
    doc.currentPhase === status.currentPhase &&
    doc.phaseNumber === status.phaseNumber &&
    doc.status === status.status &&
    doc.progressDetail === status.progressDetail &&
    doc.phasesCompleted.length === status.phasesCompleted.length &&
    doc.phasesCompleted.every((p, i) => p === status.phasesCompleted[i]) &&
    (doc.extrasOmitted ?? 0) === 0 &&
    Object.keys(doc.extras).length === Object.keys(status.extras).length;
  if (same) return status;
  return {
    ...status,
    currentPhase: doc.currentPhase,
    phaseNumber: doc.phaseNumber,
    status: doc.status,
    progressDetail: doc.progressDetail,
    phasesCompleted: doc.phasesCompleted,
    extras: doc.extras,
    ...(omitted > 0 ? { extrasOmitted: omitted } : {}),
  };
}

/** A stored transition with its phase names and status within `FIELD_LIMITS`. */
export function boundTransition(t: PhaseTransition): PhaseTransition {
  const to = cutText(t.to, FIELD_LIMITS.phase);
  const from = t.from === null ? null : cutText(t.from, FIELD_LIMITS.phase);
  const status = cutText(t.status, FIELD_LIMITS.status);
  const phaseNumber =
    t.phaseNumber === null ? null : cutText(t.phaseNumber, FIELD_LIMITS.phaseNumber);
  if (to === t.to && from === t.from && status === t.status && phaseNumber === t.phaseNumber)
    return t;
  return { ...t, to, from, status, phaseNumber };
}
