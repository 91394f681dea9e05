import { dirname } from 'node:path';
import { parsePhaseDocument, parsePhaseJson } from '../core/session/document.ts';
import type { SessionFileEvent } from '../core/session/events.ts';
import { BurstReader } from './burst-reader.ts';
import { isCheckpointFile, parseJson, readCheckpoint } from './checkpoints.ts';
import { OUT_OF_DESCRIPTORS, readBounded } from './read-file.ts';
import type { FileEvent, FileHandler } from './types.ts';

/** What one read of a phase file or checkpoint folder gave. */
export type ReadOutcome = SessionFileEvent;

const PHASE_FILE = '.context-foundry/current-phase.json';

/** True for `**\/.context-foundry/current-phase.json`. */
export function isPhaseFile(relPath: string): boolean {
  return relPath === PHASE_FILE || relPath.endsWith(`/${PHASE_FILE}`);
}

/** The project folder of a phase file: the parent of `.context-foundry/`. */
export function projectDirOf(phaseFile: string): string {
  return dirname(dirname(phaseFile));
}

/** Reads one phase file into an outcome; never throws. */
export async function readPhaseFile(path: string): Promise<ReadOutcome> {
  const projectDir = projectDirOf(path);
  const file = await readBounded(path);
  if (!file.ok) {
    if (file.code === 'missing') return { kind: 'gone', path };
    return {
      kind: 'problem',
      value: {
        path,
        projectDir,
        code: file.code,
        message: file.message,
        at: file.mtimeMs ?? Date.now(),
      },
    };
  }
  const raw = parseJson(file.text);
  // Without a value, parsePhaseJson explains what is wrong with the text.
  const parsed = raw.ok ? parsePhaseDocument(raw.value) : parsePhaseJson(file.text);
  if (!parsed.ok) {
    return {
      kind: 'problem',
      value: {
        path,
        projectDir,
        code: parsed.code,
        message: `${path}: ${parsed.message}`,
        at: file.mtimeMs,
      },
    };
  }
  return {
    kind: 'document',
    value: {
      path,
      projectDir,
      source: 'file',
      doc: parsed.doc,
      raw: raw.ok ? raw.value : null,
      at: file.mtimeMs,
    },
  };
}

/**
 * The one session source: phase files (`**\/.context-foundry/current-phase.json`)
 * and legacy checkpoint folders (`**\/checkpoints/ralph/<id>/`), each read in
 * bursts (a folder once for any of its files), turned into `SessionFileEvent`s
 * for whoever applies them (the session engine, wired by `createEngines`).
 */
export class SessionFilesHandler implements FileHandler {
  readonly name = 'session-files';
  readonly #reader: BurstReader<ReadOutcome>;

  constructor(emit: (event: SessionFileEvent) => void, opts: { confirmMs?: number } = {}) {
    this.#reader = new BurstReader({
      read: (key) => (isPhaseFile(key) ? readPhaseFile(key) : readCheckpoint(key)),
      deliver: emit,
      retryable: (outcome) =>
        outcome.kind === 'problem' && outcome.value.code === OUT_OF_DESCRIPTORS,
      ...opts,
    });
  }

  match(relPath: string): boolean {
    return isPhaseFile(relPath) || isCheckpointFile(relPath);
  }

  /** A deletion is final only if the file is really gone when read. */
  handle(event: FileEvent): Promise<void> {
    return this.#reader.notify(isPhaseFile(event.path) ? event.path : dirname(event.path));
  }

  close(): void {
    this.#reader.close();
  }
}
