import { stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { checkpointProjectDir, parseCheckpoint } from '../core/session/checkpoint.ts';
import type { SessionFileEvent } from '../core/session/events.ts';
import { readBounded } from './read-file.ts';

type ReadOutcome = SessionFileEvent;

/** JSON.parse that reports instead of throwing. */
export function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

const CHECKPOINT_FILE =
  /(?:^|\/)checkpoints\/ralph\/[^/]+\/(?:state\.json|progress\.json|COMPLETE)$/;

/** True for `**\/checkpoints/ralph/<id>/{state.json,progress.json,COMPLETE}`. */
export function isCheckpointFile(relPath: string): boolean {
  return CHECKPOINT_FILE.test(relPath);
}

/**
 * Reads a whole checkpoint folder. `state.json` is required (without it there
 * is nothing to show yet); `progress.json` is optional and a bad one is
 * ignored; `COMPLETE` counts by existing. The time is the newest mtime.
 */
export async function readCheckpoint(folder: string): Promise<ReadOutcome> {
  const statePath = join(folder, 'state.json');
  const state = await readBounded(statePath);
  if (!state.ok) {
    if (state.code === 'missing') return { kind: 'gone', path: folder };
    return {
      kind: 'problem',
      value: {
        path: folder,
        projectDir: null,
        code: state.code,
        message: state.message,
        at: state.mtimeMs ?? Date.now(),
      },
    };
  }
  const stateJson = parseJson(state.text);
  if (!stateJson.ok) {
    return {
      kind: 'problem',
      value: {
        path: folder,
        projectDir: null,
        code: 'invalid_json',
        message: `${statePath}: not valid JSON`,
        at: state.mtimeMs,
      },
    };
  }
  let at = state.mtimeMs;
  let progress: unknown = null;
  const progressFile = await readBounded(join(folder, 'progress.json'));
  if (progressFile.ok) {
    const parsed = parseJson(progressFile.text);
    if (parsed.ok) progress = parsed.value;
    at = Math.max(at, progressFile.mtimeMs);
  }
  const flag = await stat(join(folder, 'COMPLETE')).catch(() => null);
  if (flag?.isFile()) at = Math.max(at, flag.mtimeMs);
  const files = {
    folderId: basename(folder),
    state: stateJson.value,
    progress,
    complete: Boolean(flag?.isFile()),
  };
  const parsed = parseCheckpoint(files);
  const projectDir = checkpointProjectDir(stateJson.value);
  if (!parsed.ok) {
    return {
      kind: 'problem',
      value: {
        path: folder,
        projectDir,
        code: parsed.code,
        message: `${statePath}: ${parsed.message}`,
        at,
      },
    };
  }
  return {
    kind: 'document',
    value: {
      path: folder,
      projectDir,
      source: 'checkpoint',
      doc: parsed.doc,
      raw: { state: stateJson.value, progress, complete: files.complete },
      at,
    },
  };
}
