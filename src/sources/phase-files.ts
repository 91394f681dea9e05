import { dirname } from 'node:path';
import type { PhaseDocument } from '../core/session/document.ts';
import { parsePhaseDocument, parsePhaseJson } from '../core/session/document.ts';
import { BurstReader } from './burst-reader.ts';
import { readBounded } from './read-file.ts';
import type { FileEvent, FileHandler } from './types.ts';

/** A good session document read from disk. */
export interface FileDocument {
  /** The file (phase file) or folder (checkpoint) it came from. */
  path: string;
  projectDir: string | null;
  source: 'file' | 'checkpoint';
  doc: PhaseDocument;
  /** The document as parsed, kept as the session's last good document. */
  raw: unknown;
  /** Trustworthy time: the file's mtime. */
  at: number;
}

/** A problem with a file that outlived its write burst. */
export interface FileProblem {
  path: string;
  projectDir: string | null;
  code: string;
  message: string;
  at: number;
}

/** Where the file handlers send what they read (the session engine). */
export interface SessionSink {
  document(input: FileDocument): void;
  problem(input: FileProblem): void;
  /** The file is gone; the session keeps its last known state. */
  gone(path: string): void;
}

export type ReadOutcome =
  | { kind: 'document'; value: FileDocument }
  | { kind: 'problem'; value: FileProblem }
  | { kind: 'gone'; path: string };

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

/** Watches `**\/.context-foundry/current-phase.json` for a session sink. */
export class PhaseFileHandler implements FileHandler {
  readonly name = 'phase-files';
  readonly #reader: BurstReader<ReadOutcome>;

  constructor(sink: SessionSink, opts: { confirmMs?: number } = {}) {
    this.#reader = new BurstReader({
      read: readPhaseFile,
      deliver: (outcome) => deliver(sink, outcome),
      ...opts,
    });
  }

  match(relPath: string): boolean {
    return isPhaseFile(relPath);
  }

  handle(event: FileEvent): Promise<void> {
    // A deletion is final only if the file is really gone when read.
    return this.#reader.notify(event.path);
  }

  close(): void {
    this.#reader.close();
  }
}

/** Hands an outcome to a sink. */
export function deliver(sink: SessionSink, outcome: ReadOutcome): void {
  if (outcome.kind === 'document') sink.document(outcome.value);
  else if (outcome.kind === 'problem') sink.problem(outcome.value);
  else sink.gone(outcome.path);
}

/** JSON.parse that reports instead of throwing. */
export function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}
