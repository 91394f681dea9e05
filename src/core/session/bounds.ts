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
