import type { PhaseDocument } from './document.ts';

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
  /** The machine the file is on, when not the server's own (set by the forward ingest). */
  host?: string;
}

/** A problem with a file that outlived its write burst. */
export interface FileProblem {
  path: string;
  projectDir: string | null;
  code: string;
  message: string;
  at: number;
}

/**
 * The domain events the session sources produce and `SessionEngine.apply`
 * consumes: a document read, a lasting problem, or the file gone (the
 * session keeps its last known state).
 */
export type SessionFileEvent =
  | { kind: 'document'; value: FileDocument }
  | { kind: 'problem'; value: FileProblem }
  | { kind: 'gone'; path: string };
