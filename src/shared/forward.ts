import { z } from 'zod';
import { MAX_JSON_DEPTH } from './json-depth.ts';

/**
 * `POST /api/forward`: what `livestream forward` sends (wire version 1; a
 * new kind of event is a new `source`, which an older server rejects one by
 * one without holding up the rest). Events are the domain events the same
 * sources produce for `serve` (session files, metric files, plan folders,
 * agent transcripts), each numbered in its forwarder's order: the server applies
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

/** Longest PLAN text and parallel.json forwarded (the reader takes up to 4 MiB; a batch is 4 MiB). */
export const MAX_FORWARD_PLAN_TEXT = 1024 * 1024;
export const MAX_FORWARD_PARALLEL_TEXT = 256 * 1024;
/** Most files of one plan folder forwarded (real plans hold tens to hundreds). */
export const MAX_FORWARD_PLAN_FILES = 5000;
const planId = text(500).min(1);
const ms = at.nullable();

const planEvent = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('plan'),
    input: z.object({
      id: planId,
      path,
      group: text(4096).nullable().optional(),
      planFile: text(1000).nullable(),
      planText: text(MAX_FORWARD_PLAN_TEXT).nullable(),
      planMtimeMs: ms,
      parallelText: text(MAX_FORWARD_PARALLEL_TEXT).nullable(),
      parallelMtimeMs: ms,
      files: z
        .array(
          z.object({
            dir: z.enum(['subplans', 'execution', 'feedbacks']),
            name: text(1000).min(1),
            mtimeMs: at,
            declared: text(100).nullable().optional(),
            declaredAt: ms.optional(),
            effortHours: z.number().finite().nonnegative().nullable().optional(),
            committedAt: ms.optional(),
          }),
        )
        .max(MAX_FORWARD_PLAN_FILES),
      readWarnings: z.array(text(4000)).max(200).optional(),
      readAt: ms.optional(),
    }),
  }),
  z.object({ type: z.literal('gone'), id: planId }),
  z.object({
    type: z.literal('synced'),
    /** With its first scan, every plan the machine has: the server drops its others (removed meanwhile). */
    ids: z.array(planId).max(10_000).optional(),
  }),
]);

const tokens = z.number().finite().nonnegative();
const agentBase = {
  agent: z.enum(['claude', 'codex']),
  // A Codex rollout without a uuid in its name is named by the file: longer than a build's id.
  sessionId: text(500).min(1),
  agentId: text(200).min(1).nullable(),
  at,
  source: z.enum(['transcript', 'hook', 'otel']),
};
const message = text(20_000);
const agentEvent = z.discriminatedUnion('type', [
  z.object({
    ...agentBase,
    type: z.literal('meta'),
    cwd: path.optional(),
    gitBranch: text(1000).optional(),
    title: text(4000).optional(),
    model: text(200).optional(),
    contextWindow: tokens.optional(),
  }),
  z.object({ ...agentBase, type: z.literal('prompt'), text: message }),
  z.object({
    ...agentBase,
    type: z.literal('response'),
    key: text(500).min(1),
    model: text(200).nullable(),
    usage: z.object({
      input: tokens,
      output: tokens,
      cacheRead: tokens,
      cacheWrite5m: tokens,
      cacheWrite1h: tokens,
    }),
    costUsd: tokens.optional(),
    contextTokens: tokens.optional(),
    stopReason: text(100).nullable(),
    requestId: text(500).optional(),
    phase: text(1000).optional(),
  }),
  z.object({
    ...agentBase,
    type: z.literal('usage_metric'),
    series: text(1000),
    point: text(1000),
    model: text(200),
    field: z.enum(['input', 'output', 'cacheRead', 'cacheWrite5m', 'cacheWrite1h', 'costUsd']),
    value: z.number().finite(),
    cumulative: z.boolean(),
  }),
  z.object({
    ...agentBase,
    type: z.literal('tool_start'),
    toolUseId: text(500).min(1),
    name: text(500),
    summary: text(1000),
    prompt: message.optional(),
    agentType: text(200).optional(),
  }),
  z.object({
    ...agentBase,
    type: z.literal('tool_end'),
    toolUseId: text(500).min(1),
    isError: z.boolean(),
    spawnedAgentId: text(200).optional(),
  }),
  z.object({ ...agentBase, type: z.literal('turn_end') }),
  z.object({
    ...agentBase,
    type: z.literal('waiting'),
    reason: z.enum(['permission', 'question', 'input']),
    message,
  }),
  z.object({
    ...agentBase,
    type: z.literal('compaction'),
    trigger: text(200),
    preTokens: tokens.nullable(),
  }),
  z.object({ ...agentBase, type: z.literal('error'), message }),
  z.object({
    ...agentBase,
    type: z.literal('subagent_start'),
    agentType: text(200).nullable(),
    prompt: message.nullable(),
  }),
  z.object({ ...agentBase, type: z.literal('subagent_end') }),
  z.object({ ...agentBase, type: z.literal('session_end') }),
  z.object({ ...agentBase, type: z.literal('warning'), message }),
]);

/** A transcript's events, with the file they were read from (a rewrite takes back that file's). */
const agentsEvent = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('event'), file: path.nullable(), event: agentEvent }),
  z.object({ kind: z.literal('reset'), file: path }),
]);

/**
 * One forwarded event: from the session sources, the metric sources, the
 * plan folders (`PlanSourceEvent`) or the coding agents' transcripts
 * (`AgentEvent`s). Plans and agents are typed to the leaf, so their depth is
 * fixed and far below `FORWARD_EVENT_DEPTH`.
 */
export const forwardedEvent = z.discriminatedUnion('source', [
  z.object({ source: z.literal('session'), event: sessionEvent }),
  z.object({ source: z.literal('metrics'), event: metricsEvent }),
  z.object({ source: z.literal('plans'), event: planEvent }),
  z.object({ source: z.literal('agents'), event: agentsEvent }),
]);
export type ForwardedEvent = z.infer<typeof forwardedEvent>;

/**
 * Deepest an event may nest: the batch around it (body, `events`, entry) takes
 * three of the server's `MAX_JSON_DEPTH` levels, and one event past it would
 * have the whole batch refused. The forwarder drops such an event (logged).
 */
export const FORWARD_EVENT_DEPTH = MAX_JSON_DEPTH - 3;

/**
 * The wire version: bumped when an event's meaning changes (new kinds of
 * events are new `source`s and need no bump). A server answers a newer
 * version with 426 and the forwarder keeps its events until it is upgraded.
 */
export const FORWARD_WIRE_VERSION = 1;

/** The header a forwarder names itself in: the server rate-limits each forwarder on its own. */
export const FORWARDER_HEADER = 'x-livestream-forwarder';

/**
 * The header a follower replica presents, with its deployment's replica key
 * (kept in Redis), on requests it passes to the writer: the writer does not
 * count them against the follower's address (the follower counted them).
 */
export const REPLICA_HEADER = 'x-livestream-replica';

/** Events per batch at most; the forwarder sends fewer, up to about 512 KiB. */
export const MAX_FORWARD_BATCH = 1000;

/** The batch envelope; events are checked one by one (a bad one is skipped, not the batch). */
export const forwardBatch = z.object({
  /** The wire version the forwarder speaks; absent from forwarders older than it (version 1). */
  version: z.number().int().positive().optional(),
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
  /**
   * Names this server process: when it changes, the server restarted and lost
   * what it keeps in memory only (plans), so the forwarder sends its plans again.
   */
  boot?: string;
}
