import { dirname } from 'node:path';
import type { PhaseDocument } from '../core/session/document.ts';
import { parsePhaseDocument, parsePhaseJson } from '../core/session/document.ts';
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

/** How long a bad read waits for the write that completes it before it is reported. */
export const CONFIRM_MS = 300;

/**
 * Re-read delays after a bad read, before the confirmation: an in-place
 * rewrite truncates and writes within microseconds, so the content is usually
 * complete a few milliseconds later — well before the watcher's next event.
 */
export const QUICK_REREAD_MS: readonly number[] = [2, 8, 25, 60];

interface Burst {
  running: Promise<void> | null;
  dirty: boolean;
  /** The last read was bad and not reported yet. */
  suspect: boolean;
  /** When the first unreported bad read happened (performance.now()). */
  suspectSince: number;
  /** Quick re-reads done since then. */
  rereads: number;
  timer: NodeJS.Timeout | null;
}

/**
 * Per-file burst coalescing. The first event is read at once; events during a
 * read fold into one trailing re-read. A bad read (empty, half-written) is
 * re-read quickly a few times and only reported when it is still bad
 * `confirmMs` after it was first seen, so an in-place rewrite (`cat > file`)
 * never flashes a warning and its content arrives within milliseconds.
 */
export class BurstReader {
  readonly #bursts = new Map<string, Burst>();
  readonly #read: (key: string) => Promise<ReadOutcome>;
  readonly #deliver: (outcome: ReadOutcome) => void;
  readonly #confirmMs: number;
  #closed = false;

  constructor(opts: {
    read: (key: string) => Promise<ReadOutcome>;
    deliver: (outcome: ReadOutcome) => void;
    confirmMs?: number;
  }) {
    this.#read = opts.read;
    this.#deliver = opts.deliver;
    this.#confirmMs = opts.confirmMs ?? CONFIRM_MS;
  }

  /** Schedules a read of `key`; resolves when the burst it joined is fully read. */
  notify(key: string): Promise<void> {
    if (this.#closed) return Promise.resolve();
    let burst = this.#bursts.get(key);
    if (!burst) {
      burst = {
        running: null,
        dirty: false,
        suspect: false,
        suspectSince: 0,
        rereads: 0,
        timer: null,
      };
      this.#bursts.set(key, burst);
    }
    if (burst.running) {
      burst.dirty = true;
      return burst.running;
    }
    const current = burst;
    current.running = this.#loop(key, current).finally(() => {
      current.running = null;
      if (!current.suspect && !current.timer) this.#bursts.delete(key);
    });
    return current.running;
  }

  /** Cancels pending confirmation re-reads. */
  close(): void {
    this.#closed = true;
    for (const burst of this.#bursts.values()) if (burst.timer) clearTimeout(burst.timer);
    this.#bursts.clear();
  }

  async #loop(key: string, burst: Burst): Promise<void> {
    if (burst.timer) clearTimeout(burst.timer);
    burst.timer = null;
    do {
      burst.dirty = false;
      const outcome = await this.#read(key);
      if (this.#closed) return;
      if (outcome.kind !== 'problem') {
        burst.suspect = false;
        this.#deliver(outcome);
        continue;
      }
      if (!burst.suspect) {
        burst.suspect = true;
        burst.suspectSince = performance.now();
        burst.rereads = 0;
      }
      // A newer write is already on its way: its read decides.
      if (burst.dirty) continue;
      const waited = performance.now() - burst.suspectSince;
      if (waited >= this.#confirmMs) {
        burst.suspect = false;
        this.#deliver(outcome);
        continue;
      }
      const quick = QUICK_REREAD_MS[burst.rereads++] ?? this.#confirmMs;
      burst.timer = setTimeout(
        () => {
          burst.timer = null;
          void this.notify(key);
        },
        Math.min(quick, this.#confirmMs - waited),
      );
      burst.timer.unref();
    } while (burst.dirty);
  }
}

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
  readonly #reader: BurstReader;

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
