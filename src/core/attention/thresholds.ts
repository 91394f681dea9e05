import { z } from 'zod';

/** When a rule fires. Every figure can be set per project (see docs/attention.md). */
export interface AttentionThresholds {
  /** Stalled when the current phase shows no progress for this many times its usual duration. */
  stallFactor: number;
  /** …but never sooner than this (ms): short phases jitter. */
  stallMinMs: number;
  /** The limit (ms) for a phase no past session went through. */
  stallDefaultMs: number;
  /** The producer is gone after this long (ms) without writing anything while running. */
  producerGoneMs: number;
  /** A test loop: this many test iterations in a row with failures. */
  testLoopIterations: number;
  /** A self-healing loop: this many self-healing rounds in one phase. */
  healingCycles: number;
  /** A tool loop: the same tool call (tool and input) this many times in a row. */
  toolRepeats: number;
  /** Spend without progress: tokens since the last phase or test change. */
  spendTokens: number;
  /** …or dollars, when the session carries a cost. */
  spendUsd: number;
  /** Raise an `info` alert when a session completes (failures are always raised). */
  notifyCompleted: boolean;
}

export const DEFAULT_THRESHOLDS: Readonly<AttentionThresholds> = Object.freeze({
  stallFactor: 3,
  stallMinMs: 5 * 60_000,
  stallDefaultMs: 20 * 60_000,
  producerGoneMs: 10 * 60_000,
  testLoopIterations: 3,
  healingCycles: 3,
  toolRepeats: 5,
  spendTokens: 100_000,
  spendUsd: 5,
  notifyCompleted: true,
});

const ms = z
  .number()
  .int()
  .min(0)
  .max(7 * 86_400_000);
const count = z.number().int().min(1).max(10_000);

/** The `attention` section of a config file; every field optional, unknown ones refused. */
export const thresholdsSchema = z
  .object({
    stallFactor: z.number().min(1).max(1000),
    stallMinMs: ms,
    stallDefaultMs: ms,
    producerGoneMs: ms,
    testLoopIterations: count,
    healingCycles: count,
    toolRepeats: count,
    spendTokens: z.number().int().min(1),
    spendUsd: z.number().min(0),
    notifyCompleted: z.boolean(),
  })
  .partial()
  .strict();

export type ThresholdOverrides = z.infer<typeof thresholdsSchema>;

/** A config file: `{ "attention": { … } }`. */
export const attentionConfigSchema = z.object({ attention: thresholdsSchema.optional() });

/**
 * Parses a config file's text. A bad file never takes a default away: the
 * result is the defaults given, with the error to report.
 */
export function parseAttentionConfig(
  text: string,
  base: Readonly<AttentionThresholds> = DEFAULT_THRESHOLDS,
): { thresholds: AttentionThresholds; error: string | null } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { thresholds: { ...base }, error: `not JSON: ${(error as Error).message}` };
  }
  const parsed = attentionConfigSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.join('.') || '(root)';
    return { thresholds: { ...base }, error: `${where}: ${issue?.message ?? 'invalid'}` };
  }
  return { thresholds: mergeThresholds(base, parsed.data.attention ?? {}), error: null };
}

export function mergeThresholds(
  base: Readonly<AttentionThresholds>,
  overrides: ThresholdOverrides,
): AttentionThresholds {
  const out = { ...base };
  for (const [key, value] of Object.entries(overrides)) {
    if (value !== undefined) (out as Record<string, unknown>)[key] = value;
  }
  return out;
}
