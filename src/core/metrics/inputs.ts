import type { DecisionParse } from './decisions.ts';
import type { TestCounts } from './test-results.ts';

/**
 * The domain events the metric sources produce (JSONL tails, `.context-foundry`
 * readers) and the metrics engine consumes through `MetricsFileSink`.
 */

/** A log replaced (rotated) or cut short (truncated): read again from its start. */
export type TailReset = 'rotated' | 'truncated';

/** `logs/ralph_<id>/session.jsonl` (tokens) or `logs/events/<id>/events.jsonl` (events). */
export type JsonlKind = 'session_log' | 'events';

/** Lines of one JSONL log, handed to the metrics engine. */
export interface JsonlBatch {
  kind: JsonlKind;
  sessionId: string;
  path: string;
  values: unknown[];
  /** Saves the offset after these lines; for batches the sink could not make durable at once. */
  persist: () => Promise<void>;
}

export interface TestResultsFile {
  projectDir: string;
  iteration: number;
  /** Relative to the project. */
  source: string;
  counts: TestCounts;
  at: number;
}

export interface DecisionFile {
  projectDir: string;
  source: string;
  parsed: DecisionParse;
  at: number;
}

export interface MetricsFileProblem {
  /** The session id (JSONL logs) or project folder (`.context-foundry` files) it concerns. */
  sessionId: string | null;
  projectDir: string | null;
  path: string;
  code: string;
  message: string;
}

/** Where the metric file handlers send what they read (the metrics engine). */
export interface MetricsFileSink {
  /** Resolve true once the lines are durably accounted (then the offset is saved). */
  jsonlBatch(batch: JsonlBatch): boolean | Promise<boolean>;
  /** A log was replaced or truncated and is read again from its start. */
  jsonlReset(kind: JsonlKind, sessionId: string, reason: TailReset): void;
  testResults(file: TestResultsFile): void;
  decisionFile(file: DecisionFile): void;
  problem(problem: MetricsFileProblem): void;
}

/** One metric input as an event, for `MetricsEngine.apply`. */
export type MetricsFileEvent =
  | { kind: 'jsonl'; batch: JsonlBatch }
  | { kind: 'jsonl_reset'; log: JsonlKind; sessionId: string; reason: TailReset }
  | { kind: 'test_results'; file: TestResultsFile }
  | { kind: 'decisions'; file: DecisionFile }
  | { kind: 'problem'; problem: MetricsFileProblem };

/**
 * The sink the metric sources call, over an `apply(event)`: a JSONL batch's
 * answer (durably accounted or not) is passed back, the rest return nothing.
 */
export function metricsSink(
  apply: (event: MetricsFileEvent) => boolean | Promise<boolean> | undefined,
): MetricsFileSink {
  return {
    jsonlBatch: (batch) => apply({ kind: 'jsonl', batch }) ?? false,
    jsonlReset: (log, sessionId, reason) => {
      apply({ kind: 'jsonl_reset', log, sessionId, reason });
    },
    testResults: (file) => {
      apply({ kind: 'test_results', file });
    },
    decisionFile: (file) => {
      apply({ kind: 'decisions', file });
    },
    problem: (problem) => {
      apply({ kind: 'problem', problem });
    },
  };
}
