import { z } from 'zod';
import { jsonValueTooDeep, tooDeepMessage } from '../../shared/json-depth.ts';
import { boundDocument } from './bounds.ts';
import { hasControlChars, MAX_SESSION_ID_LENGTH, type ParseResult } from './document.ts';
import { setOwn } from './extras.ts';
import { clampPercent, parsePhaseNumber } from './phase-number.ts';
import { parseLlmTimestamp } from './timestamps.ts';

/** The files of one `checkpoints/ralph/<id>/` folder, as read. */
export interface CheckpointFiles {
  /** The folder's name (`<id>`): the session id when state.json has none. */
  folderId: string;
  /** Parsed `state.json`. */
  state: unknown;
  /** Parsed `progress.json`, or null when absent or unreadable. */
  progress: unknown;
  /** Whether the `COMPLETE` flag file exists. */
  complete: boolean;
}

const stringList = z
  .array(z.unknown())
  .catch([])
  .transform((items) => items.filter((i): i is string => typeof i === 'string'));

const stateSchema = z.looseObject({
  session_id: z.string().optional().catch(undefined),
  project_name: z.string().optional().catch(undefined),
  task_description: z.string().optional().catch(undefined),
  current_phase: z.string().optional().catch(undefined),
  last_phase: z.string().optional().catch(undefined),
  start_time: z.unknown().optional(),
  last_iteration_time: z.unknown().optional(),
  working_directory: z.string().optional().catch(undefined),
});

const progressSchema = z.looseObject({
  completed: stringList.optional(),
  remaining: stringList.optional(),
  notes: stringList.optional(),
});

const STATE_KNOWN = new Set(['session_id', 'current_phase', 'start_time', 'last_iteration_time']);

/**
 * Turns a legacy checkpoint into the same document a `current-phase.json`
 * gives. Phases are lowercase (`scout`, `complete`); `COMPLETE` or a
 * `complete` phase means the session finished. Progress comes from the tasks.
 */
export function parseCheckpoint(files: CheckpointFiles): ParseResult {
  if (typeof files.state !== 'object' || files.state === null || Array.isArray(files.state)) {
    return { ok: false, code: 'invalid_document', message: 'state.json: expected a JSON object' };
  }
  if (jsonValueTooDeep(files.state) || jsonValueTooDeep(files.progress)) {
    return { ok: false, code: 'invalid_document', message: tooDeepMessage('state.json') };
  }
  const state = stateSchema.parse(files.state);
  const progress = progressSchema.safeParse(files.progress ?? {});
  const tasks = progress.success ? progress.data : {};
  const phase = (state.current_phase ?? state.last_phase ?? '').trim() || 'unknown';
  const complete = files.complete || phase.toLowerCase() === 'complete';
  const done = tasks.completed?.length ?? 0;
  const total = done + (tasks.remaining?.length ?? 0);
  const extras = checkpointExtras(files.state, progress.success ? files.progress : null);
  const named = state.session_id?.trim() ?? '';
  // A name too long for a key, or with control characters, is no name: the folder's is used.
  const sessionId =
    named.length > 0 && named.length <= MAX_SESSION_ID_LENGTH && !hasControlChars(named)
      ? named
      : files.folderId;
  const doc = boundDocument(
    {
      sessionId,
      currentPhase: phase,
      phaseNumber: parsePhaseNumber(undefined),
      status: complete ? 'completed' : 'in_progress',
      progressDetail: tasks.notes?.at(-1) ?? state.task_description ?? null,
      testIteration: null,
      phasesCompleted: [],
      startedAt: parseLlmTimestamp(state.start_time),
      reportedAt: parseLlmTimestamp(state.last_iteration_time),
      progressHint: total > 0 ? clampPercent((done / total) * 100) : null,
      // The runner saves state.json only after an iteration: the first one seen
      // already names the next phase, and `last_phase` the one that just ran.
      previousPhase:
        state.last_phase && state.last_phase.trim().toLowerCase() !== phase.toLowerCase()
          ? state.last_phase.trim()
          : null,
    },
    extras,
  );
  return { ok: true, doc };
}

/** The fields of a checkpoint the model does not know, whole (with `progress.json` as `progress`). */
export function checkpointExtras(state: unknown, progress: unknown): Record<string, unknown> {
  const extras: Record<string, unknown> = {};
  if (typeof state === 'object' && state !== null && !Array.isArray(state)) {
    for (const [key, value] of Object.entries(state))
      if (!STATE_KNOWN.has(key)) setOwn(extras, key, value);
  }
  if (progress !== null && progress !== undefined) extras.progress = progress;
  return extras;
}

/** The project folder a checkpoint names, when it names an absolute one. */
export function checkpointProjectDir(state: unknown): string | null {
  if (typeof state !== 'object' || state === null) return null;
  const dir = (state as { working_directory?: unknown }).working_directory;
  return typeof dir === 'string' && dir.startsWith('/') ? dir : null;
}
