import { z } from 'zod';
import { jsonValueTooDeep, tooDeepMessage } from '../../shared/json-depth.ts';
import type { PhaseNumber } from '../../shared/model.ts';
import { boundDocument } from './bounds.ts';
import { setOwn } from './extras.ts';
import { parsePhaseNumber } from './phase-number.ts';
import { parseLlmTimestamp } from './timestamps.ts';

/** A `current-phase.json` document (or a checkpoint) after normalisation. */
export interface PhaseDocument {
  /** Null when the producer omitted it: callers fall back to the project folder's name. */
  sessionId: string | null;
  currentPhase: string;
  phaseNumber: PhaseNumber;
  status: string;
  progressDetail: string | null;
  testIteration: number | null;
  phasesCompleted: string[];
  startedAt: number | null;
  reportedAt: number | null;
  /** Progress to use when the phase number says nothing (checkpoints: tasks done). */
  progressHint: number | null;
  /** The phase the producer says came just before this one (ralph's `last_phase`), when it differs. */
  previousPhase?: string | null;
  extras: Record<string, unknown>;
  /** Extra fields not shown in full in `extras` (summarised or left out; see `summariseExtras`). */
  extrasOmitted?: number;
}

export type ParseResult =
  | { ok: true; doc: PhaseDocument }
  | { ok: false; code: 'invalid_json' | 'invalid_document'; message: string };

export const MAX_SESSION_ID_LENGTH = 200;

const text = z.union([z.string(), z.number().transform(String)]);

const phaseSchema = z.looseObject({
  session_id: text.optional().catch(undefined),
  current_phase: text.optional().catch(undefined),
  phase_number: z.unknown().optional(),
  status: text.optional().catch(undefined),
  progress_detail: text.nullable().optional().catch(undefined),
  test_iteration: z.unknown().optional(),
  phases_completed: z.array(z.unknown()).optional().catch(undefined),
  started_at: z.unknown().optional(),
  last_updated: z.unknown().optional(),
});

const KNOWN = new Set(Object.keys(phaseSchema.shape));

/** Parses the text of a `current-phase.json`; never throws. */
export function parsePhaseJson(source: string): ParseResult {
  if (source.trim().length === 0) {
    return { ok: false, code: 'invalid_json', message: 'the file is empty' };
  }
  let value: unknown;
  try {
    value = JSON.parse(source);
  } catch (error) {
    return {
      ok: false,
      code: 'invalid_json',
      message: `not valid JSON: ${(error as Error).message}`,
    };
  }
  return parsePhaseDocument(value);
}

/** Normalises a parsed document: lenient about every known quirk, strict only about shape. */
export function parsePhaseDocument(value: unknown): ParseResult {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, code: 'invalid_document', message: 'expected a JSON object' };
  }
  // Before any recursive walk (zod, the diff, JSON.stringify): a few KB nested
  // thousands deep would overflow the stack for every session, not only this one.
  if (jsonValueTooDeep(value)) {
    return { ok: false, code: 'invalid_document', message: tooDeepMessage('the document') };
  }
  const parsed = phaseSchema.safeParse(value);
  if (!parsed.success) {
    return { ok: false, code: 'invalid_document', message: parsed.error.message };
  }
  const data = parsed.data;
  const currentPhase = clean(data.current_phase);
  const status = clean(data.status);
  if (currentPhase === null && status === null) {
    return {
      ok: false,
      code: 'invalid_document',
      message: 'needs at least "current_phase" or "status" (a string)',
    };
  }
  const sessionId = clean(data.session_id);
  if (sessionId !== null && sessionId.length > MAX_SESSION_ID_LENGTH) {
    return {
      ok: false,
      code: 'invalid_document',
      message: `"session_id" is longer than ${MAX_SESSION_ID_LENGTH} characters`,
    };
  }
  if (sessionId !== null && hasControlChars(sessionId)) {
    return {
      ok: false,
      code: 'invalid_document',
      message: '"session_id" contains control characters',
    };
  }
  return {
    ok: true,
    doc: boundDocument(
      {
        sessionId,
        currentPhase: currentPhase ?? 'Unknown',
        phaseNumber: parsePhaseNumber(data.phase_number),
        status: status ?? 'unknown',
        progressDetail: typeof data.progress_detail === 'string' ? data.progress_detail : null,
        testIteration: parseIteration(data.test_iteration),
        phasesCompleted: (data.phases_completed ?? []).filter(
          (p): p is string => typeof p === 'string',
        ),
        startedAt: parseLlmTimestamp(data.started_at),
        reportedAt: parseLlmTimestamp(data.last_updated),
        progressHint: null,
      },
      unknownFields(value as Record<string, unknown>),
    ),
  };
}

/** The fields of a phase document the model does not know, whole (`extras` before bounding). */
export function phaseDocumentExtras(value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return {};
  return unknownFields(value as Record<string, unknown>);
}

/** From the parsed input itself, not zod's copy: a `__proto__` key of a file stays a field. */
function unknownFields(data: Record<string, unknown>): Record<string, unknown> {
  const extras: Record<string, unknown> = {};
  for (const [key, extra] of Object.entries(data)) if (!KNOWN.has(key)) setOwn(extras, key, extra);
  return extras;
}

function clean(value: string | undefined): string | null {
  if (value === undefined) return null;
  const trimmed = value.trim();
  return trimmed.length === 0 ? null : trimmed;
}

/** True when `value` contains a control character (below U+0020). */
export function hasControlChars(value: string): boolean {
  for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) < 0x20) return true;
  return false;
}

function parseIteration(value: unknown): number | null {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 ? n : null;
}
