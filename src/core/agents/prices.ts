import { z } from 'zod';
import type { TokenUsage } from '../../shared/agents.ts';

/** USD per million tokens of each kind. */
export interface ModelPrice {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite5m: number;
  cacheWrite1h: number;
}

/**
 * A price table: models matched by prefix of their id (the longest prefix
 * wins, so `claude-opus-4-5` beats `claude-opus-4`).
 */
export interface PriceTable {
  version: string;
  models: Record<string, ModelPrice>;
}

const anthropic = (input: number, output: number): ModelPrice => ({
  input,
  output,
  // Anthropic prices cache reads at 0.1×, 5-minute writes at 1.25× and 1-hour writes at 2× input.
  cacheRead: input * 0.1,
  cacheWrite5m: input * 1.25,
  cacheWrite1h: input * 2,
});
const openai = (input: number, output: number, cacheRead: number): ModelPrice => ({
  input,
  output,
  cacheRead,
  // OpenAI caches automatically: no write surcharge.
  cacheWrite5m: input,
  cacheWrite1h: input,
});

/**
 * The table shipped with Livestream, from the vendors' public price pages.
 * Bump `version` with every change; `--prices FILE` overrides or extends it.
 */
export const DEFAULT_PRICES: PriceTable = {
  version: '2026-01-15',
  models: {
    'claude-opus-4-5': anthropic(5, 25),
    'claude-opus-4-6': anthropic(5, 25),
    'claude-opus-4-1': anthropic(15, 75),
    'claude-opus-4': anthropic(15, 75),
    'claude-3-opus': anthropic(15, 75),
    'claude-sonnet-4': anthropic(3, 15),
    'claude-3-7-sonnet': anthropic(3, 15),
    'claude-3-5-sonnet': anthropic(3, 15),
    'claude-haiku-4-5': anthropic(1, 5),
    'claude-3-5-haiku': anthropic(0.8, 4),
    'claude-3-haiku': anthropic(0.25, 1.25),
    'gpt-5-mini': openai(0.25, 2, 0.025),
    'gpt-5-nano': openai(0.05, 0.4, 0.005),
    'gpt-5': openai(1.25, 10, 0.125),
    'gpt-4.1': openai(2, 8, 0.5),
    'o4-mini': openai(1.1, 4.4, 0.275),
    o3: openai(2, 8, 0.5),
  },
};

const modelPrice = z.object({
  input: z.number().nonnegative(),
  output: z.number().nonnegative(),
  cacheRead: z.number().nonnegative().optional(),
  cacheWrite5m: z.number().nonnegative().optional(),
  cacheWrite1h: z.number().nonnegative().optional(),
});

/** The override file: `{"version"?: "...", "models": {"<prefix>": {input, output, cacheRead?, …}}}`. */
export const priceFileSchema = z.object({
  version: z.string().optional(),
  models: z.record(z.string().min(1), modelPrice),
});

/**
 * The shipped table with a file's entries laid over it. Missing cache prices
 * default to the input price (no discount, no surcharge).
 */
export function mergePrices(base: PriceTable, file: unknown): PriceTable {
  const parsed = priceFileSchema.parse(file);
  const models = { ...base.models };
  for (const [prefix, p] of Object.entries(parsed.models)) {
    models[prefix] = {
      input: p.input,
      output: p.output,
      cacheRead: p.cacheRead ?? p.input,
      cacheWrite5m: p.cacheWrite5m ?? p.input,
      cacheWrite1h: p.cacheWrite1h ?? p.cacheWrite5m ?? p.input,
    };
  }
  return { version: `${base.version}+${parsed.version ?? 'file'}`, models };
}

/**
 * The price of a model id, or null when the table does not know it. Vendor
 * prefixes (`anthropic/`, `openai.`) and date or context suffixes
 * (`-20250514`, `[1m]`) do not matter.
 */
export function priceOf(table: PriceTable, model: string): ModelPrice | null {
  const id = model
    .toLowerCase()
    .replace(/^.*[/.](?=claude|gpt|o\d)/, '')
    .replace(/\[.*\]$/, '');
  let best: string | null = null;
  for (const prefix of Object.keys(table.models)) {
    if (id.startsWith(prefix) && (best === null || prefix.length > best.length)) best = prefix;
  }
  return best === null ? null : (table.models[best] ?? null);
}

/** USD for a usage at a price. */
export function costOf(price: ModelPrice, u: TokenUsage): number {
  return (
    (u.input * price.input +
      u.output * price.output +
      u.cacheRead * price.cacheRead +
      u.cacheWrite5m * price.cacheWrite5m +
      u.cacheWrite1h * price.cacheWrite1h) /
    1_000_000
  );
}

/** Context window of a model: 1M for the `[1m]` variants, else what the family has. */
export function contextWindowOf(model: string | null): number {
  if (!model) return 200_000;
  if (/\[1m\]/i.test(model)) return 1_000_000;
  if (/^gpt-5/i.test(model)) return 272_000;
  if (/^gpt-4\.1/i.test(model)) return 1_047_576;
  return 200_000;
}
