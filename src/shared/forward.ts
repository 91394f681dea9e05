import { z } from 'zod';

/**
 * `POST /api/forward`: what `livestream forward` sends. Events are the
 * domain events the same sources produce for `serve` (session files and
 * metric files), each numbered in its forwarder's order: the server applies
 * an event once, however often a batch is resent.
 */

/** Host names: what the dashboard shows as the machine; also part of session keys. */
export const HOST_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** A machine's own name (`os.hostname()`) made a `HOST_NAME`: how the dashboard names it. */
export function safeHostName(raw: string): string {
  const safe = raw.replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+/, '');
  return (safe || 'machine').slice(0, 63);
}

/** The machine of a path the forward ingest placed under `/@host/…`; null for a local path. */
export function hostOfPath(path: string | null): string | null {
  const match = path === null ? null : /^\/@([^/]+)\//.exec(path);
  return match?.[1] !== undefined && HOST_NAME.test(match[1]) ? match[1] : null;
}

const path = z.string().min(1).max(4096);
const dir = path.nullable();
const at = z.number().finite();
const text = (max: number) => z.string().max(max);

const phaseDocument = z.object({
  sessionId: text(200).nullable(),
  currentPhase: text(1000),
  phaseNumber: z.looseObject({}),
  status: text(200),
  progressDetail: text(20_000).nullable(),
  testIteration: z.number().int().nullable(),
  phasesCompleted: z.array(text(1000)).max(200),
  startedAt: at.nullable(),
  reportedAt: at.nullable(),
  progressHint: z.number().finite().nullable(),
  previousPhase: text(1000).nullable().optional(),
  extras: z.record(z.string(), z.unknown()),
});

const problem = z.object({
  path,
  projectDir: dir,
  code: text(100),
  message: text(4000),
  at,
});

const sessionEvent = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('document'),
    value: z.object({
      path,
      projectDir: dir,
      source: z.enum(['file', 'checkpoint']),
      doc: phaseDocument,
      raw: z.unknown(),
      at,
      /** Set by the ingest to the batch's authenticated host; whatever a forwarder puts here is replaced. */
      host: z.string().regex(HOST_NAME).optional(),
    }),
  }),
  z.object({ kind: z.literal('problem'), value: problem }),
  z.object({ kind: z.literal('gone'), path }),
]);

const sessionId = text(200).min(1);
const jsonlKind = z.enum(['session_log', 'events']);
const count = z.number().nullable();

const metricsEvent = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('jsonl'),
    batch: z.object({ kind: jsonlKind, sessionId, path, values: z.array(z.unknown()).max(10_000) }),
  }),
  z.object({
    kind: z.literal('jsonl_reset'),
    log: jsonlKind,
    sessionId,
    reason: z.enum(['rotated', 'truncated']),
  }),
  z.object({
    kind: z.literal('test_results'),
    file: z.object({
      projectDir: path,
      iteration: z.number().int().nonnegative(),
      source: path,
      counts: z.looseObject({
        total: count,
        passed: count,
        failed: count,
        skipped: count,
        durationMs: count,
        verdict: z.enum(['passed', 'failed']).optional(),
        reason: text(4000).nullable().optional(),
      }),
      at,
    }),
  }),
  z.object({
    kind: z.literal('decisions'),
    file: z.object({
      projectDir: path,
      source: path,
      parsed: z.object({
        decisions: z
          .array(
            z.looseObject({
              id: text(500),
              kind: text(50),
              title: text(4000),
              phase: text(1000).nullable(),
              solution: text(4000).nullable(),
              severity: text(100).nullable(),
              source: path,
              updatedAt: at,
              details: z.record(z.string(), z.unknown()),
            }),
          )
          .max(5000),
        skipped: z.number().int().nonnegative(),
        problem: text(4000).nullable(),
      }),
      at,
    }),
  }),
  z.object({
    kind: z.literal('problem'),
    problem: z.object({
      sessionId: sessionId.nullable(),
      projectDir: dir,
      path,
      code: text(100),
      message: text(4000),
    }),
  }),
]);

/** One forwarded event: from the session sources or the metric sources. */
export const forwardedEvent = z.discriminatedUnion('source', [
  z.object({ source: z.literal('session'), event: sessionEvent }),
  z.object({ source: z.literal('metrics'), event: metricsEvent }),
]);
export type ForwardedEvent = z.infer<typeof forwardedEvent>;

/** Events per batch at most; the forwarder sends fewer, up to about 512 KiB. */
export const MAX_FORWARD_BATCH = 1000;

/** The batch envelope; events are checked one by one (a bad one is skipped, not the batch). */
export const forwardBatch = z.object({
  /** The outbox's id: names the event stream the seqs count in. */
  forwarder: z.string().uuid(),
  /** The machine (ignored when the token names one). */
  host: z.string().regex(HOST_NAME),
  /** Events the forwarder dropped, oldest first, because its outbox was full. */
  dropped: z.number().int().nonnegative(),
  events: z
    .array(z.object({ seq: z.number().int().positive(), event: z.unknown() }))
    .max(MAX_FORWARD_BATCH),
});
export type ForwardBatch = z.infer<typeof forwardBatch>;

/** The server's answer: every event up to `acked` is applied (or was before). */
export interface ForwardAck {
  acked: number;
  applied: number;
  duplicates: number;
  /** Events that did not pass the checks (logged on the server, not retried). */
  rejected: number;
  host: string;
}
