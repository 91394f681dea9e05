import { dirname, relative } from 'node:path';
import { decisionFileKind, parseDecisionFile } from '../core/metrics/decisions.ts';
import type {
  DecisionFile,
  JsonlBatch,
  JsonlKind,
  MetricsFileProblem,
  MetricsFileSink,
  TestResultsFile,
} from '../core/metrics/inputs.ts';
import { parseTestResults, testIterationOf } from '../core/metrics/test-results.ts';
import type { SessionStore } from '../store/types.ts';
import { BurstReader } from './burst-reader.ts';
import { JsonlTail, type TailResult } from './jsonl-tail.ts';
import { OUT_OF_DESCRIPTORS, readBounded } from './read-file.ts';
import type { FileEvent, FileHandler } from './types.ts';

export type {
  DecisionFile,
  JsonlBatch,
  JsonlKind,
  MetricsFileProblem,
  MetricsFileSink,
  TestResultsFile,
};

const JSONL_FILES: [JsonlKind, RegExp][] = [
  ['session_log', /(?:^|\/)logs\/ralph_([^/]+)\/session\.jsonl$/],
  ['events', /(?:^|\/)logs\/events\/([^/]+)\/events\.jsonl$/],
];

/** Which JSONL log a path is, and the session id it names. */
export function jsonlFileOf(path: string): { kind: JsonlKind; sessionId: string } | null {
  const normalised = path.replaceAll('\\', '/');
  for (const [kind, re] of JSONL_FILES) {
    const m = re.exec(normalised);
    if (m) return { kind, sessionId: m[1] as string };
  }
  return null;
}

/** Follows every session.jsonl and events.jsonl under the roots with a byte-offset tail. */
export class JsonlLogHandler implements FileHandler {
  readonly name = 'metrics-jsonl';
  readonly #tails = new Map<string, JsonlTail>();
  readonly #sink: MetricsFileSink;
  readonly #offsets: Pick<SessionStore, 'getOffset' | 'setOffset'>;
  readonly #maxLineBytes: number | undefined;

  constructor(
    sink: MetricsFileSink,
    offsets: Pick<SessionStore, 'getOffset' | 'setOffset'>,
    opts: { maxLineBytes?: number } = {},
  ) {
    this.#sink = sink;
    this.#offsets = offsets;
    this.#maxLineBytes = opts.maxLineBytes;
  }

  match(relPath: string): boolean {
    return jsonlFileOf(relPath) !== null;
  }

  async handle(event: FileEvent): Promise<void> {
    const file = jsonlFileOf(event.path);
    if (!file) return;
    if (event.kind === 'unlink') {
      // The saved offset and inode stay: a file that comes back is recognised as rotated.
      this.#tails.delete(event.path);
      return;
    }
    const tail = this.#tail(event.path, file.kind, file.sessionId);
    let result: TailResult;
    try {
      result = await tail.poll();
    } catch (error) {
      this.#sink.problem({
        sessionId: file.sessionId,
        projectDir: null,
        path: event.path,
        code: 'unreadable',
        message: `${event.path} could not be read: ${(error as Error).message}`,
      });
      return;
    }
    const skipped = [
      result.invalid > 0 ? `${result.invalid} line(s) that are not valid JSON` : '',
      result.oversized > 0 ? `${result.oversized} line(s) over the length limit` : '',
    ].filter(Boolean);
    if (skipped.length > 0) {
      this.#sink.problem({
        sessionId: file.sessionId,
        projectDir: null,
        path: event.path,
        code: result.invalid > 0 ? 'invalid_lines' : 'oversized_lines',
        message: `${event.path}: skipped ${skipped.join(' and ')}`,
      });
    }
  }

  #tail(path: string, kind: JsonlKind, sessionId: string): JsonlTail {
    let tail = this.#tails.get(path);
    if (!tail) {
      const created: JsonlTail = new JsonlTail({
        path,
        offsets: this.#offsets,
        onBatch: ({ values }) =>
          this.#sink.jsonlBatch({
            kind,
            sessionId,
            path,
            values,
            persist: () => created.persist(),
          }),
        onReset: (reason) => this.#sink.jsonlReset(kind, sessionId, reason),
        ...(this.#maxLineBytes ? { maxLineBytes: this.#maxLineBytes } : {}),
      });
      tail = created;
      this.#tails.set(path, tail);
    }
    return tail;
  }
}

/** Test output can be long, but a file over this is reported rather than read. */
const MAX_TEST_RESULTS_BYTES = 4 * 1024 * 1024;

type ProjectFile = { kind: 'test_results'; iteration: number } | { kind: 'feedback' | 'patterns' };

function projectFileOf(path: string): ProjectFile | null {
  const normalised = path.replaceAll('\\', '/');
  if (!normalised.includes('.context-foundry/')) return null;
  const iteration = testIterationOf(normalised);
  if (iteration !== null) return { kind: 'test_results', iteration };
  const decision = decisionFileKind(normalised);
  return decision ? { kind: decision } : null;
}

/** The project folder: the parent of the `.context-foundry/` a path is in. */
function projectDirOf(path: string): string {
  let dir = dirname(path);
  while (!dir.endsWith('.context-foundry') && dirname(dir) !== dir) dir = dirname(dir);
  return dirname(dir);
}

type Outcome =
  | { kind: 'tests'; value: TestResultsFile }
  | { kind: 'decisions'; value: DecisionFile }
  | { kind: 'problem'; value: MetricsFileProblem }
  | { kind: 'none' };

/**
 * Reads `.context-foundry/test-results-iteration-N.md`, `feedback/build-feedback-*.json`
 * and `patterns/common-issues.json`. An LLM rewrites them in place, so reads of one
 * file are coalesced and a bad read is only reported once it has lasted
 * (see `BurstReader`).
 */
export class ProjectMetricsHandler implements FileHandler {
  readonly name = 'metrics-project-files';
  readonly #sink: MetricsFileSink;
  readonly #reader: BurstReader<Outcome>;
  #closed = false;

  constructor(sink: MetricsFileSink, opts: { confirmMs?: number } = {}) {
    this.#sink = sink;
    this.#reader = new BurstReader<Outcome>({
      read: (path) => this.#read(path),
      deliver: (outcome) => this.#deliver(outcome),
      retryable: (outcome) =>
        outcome.kind === 'problem' && outcome.value.code === OUT_OF_DESCRIPTORS,
      ...(opts.confirmMs === undefined ? {} : { confirmMs: opts.confirmMs }),
    });
  }

  match(relPath: string): boolean {
    return projectFileOf(relPath) !== null;
  }

  handle(event: FileEvent): Promise<void> {
    // A deleted result keeps its figures: they were measured.
    if (event.kind === 'unlink' || this.#closed) return Promise.resolve();
    return this.#reader.notify(event.path);
  }

  /** Cancels pending confirmation re-reads. */
  close(): void {
    this.#closed = true;
    this.#reader.close();
  }

  #deliver(outcome: Outcome): void {
    if (outcome.kind === 'tests') this.#sink.testResults(outcome.value);
    else if (outcome.kind === 'decisions') this.#sink.decisionFile(outcome.value);
    else if (outcome.kind === 'problem') this.#sink.problem(outcome.value);
  }

  async #read(path: string): Promise<Outcome> {
    const file = projectFileOf(path);
    if (!file) return { kind: 'none' };
    const projectDir = projectDirOf(path);
    const source = relative(projectDir, path).replaceAll('\\', '/');
    const problem = (code: string, message: string): Outcome => ({
      kind: 'problem',
      value: { sessionId: null, projectDir, path, code, message },
    });
    const limit = file.kind === 'test_results' ? MAX_TEST_RESULTS_BYTES : undefined;
    const read = await readBounded(path, limit);
    if (!read.ok)
      return read.code === 'missing' ? { kind: 'none' } : problem(read.code, read.message);
    const at = read.mtimeMs;
    if (file.kind === 'test_results') {
      const counts = parseTestResults(read.text);
      if (!counts) return problem('no_test_results', `${source}: no passed/failed figures found`);
      return {
        kind: 'tests',
        value: { projectDir, iteration: file.iteration, source, counts, at },
      };
    }
    let doc: unknown;
    try {
      doc = JSON.parse(read.text);
    } catch (error) {
      return problem('invalid_json', `${source}: ${(error as Error).message}`);
    }
    const parsed = parseDecisionFile(file.kind, doc, source, at);
    if (parsed.problem) return problem('unexpected_shape', `${source}: ${parsed.problem}`);
    return { kind: 'decisions', value: { projectDir, source, parsed, at } };
  }
}
