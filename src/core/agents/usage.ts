import type { TokenUsage } from '../../shared/agents.ts';

const FIELDS = ['input', 'output', 'cacheRead', 'cacheWrite5m', 'cacheWrite1h'] as const;

export function zeroUsage(): TokenUsage {
  return { input: 0, output: 0, cacheRead: 0, cacheWrite5m: 0, cacheWrite1h: 0 };
}

/** Adds `b` (times `sign`) into `into`, in place. */
export function addUsage(into: TokenUsage, b: TokenUsage, sign = 1): void {
  for (const f of FIELDS) into[f] += sign * b[f];
}

/**
 * The fuller of two copies of one response's usage, field by field: a
 * response's lines repeat its usage, and mid-stream ones carry partial counts.
 */
export function maxUsage(a: TokenUsage, b: TokenUsage): TokenUsage {
  return {
    input: Math.max(a.input, b.input),
    output: Math.max(a.output, b.output),
    cacheRead: Math.max(a.cacheRead, b.cacheRead),
    cacheWrite5m: Math.max(a.cacheWrite5m, b.cacheWrite5m),
    cacheWrite1h: Math.max(a.cacheWrite1h, b.cacheWrite1h),
  };
}

export function sameUsage(a: TokenUsage, b: TokenUsage): boolean {
  return FIELDS.every((f) => a[f] === b[f]);
}

export function diffUsage(a: TokenUsage, b: TokenUsage): TokenUsage {
  return {
    input: a.input - b.input,
    output: a.output - b.output,
    cacheRead: a.cacheRead - b.cacheRead,
    cacheWrite5m: a.cacheWrite5m - b.cacheWrite5m,
    cacheWrite1h: a.cacheWrite1h - b.cacheWrite1h,
  };
}

/**
 * A 53-bit hash of a string (two FNV-1a passes): what the dedupe set keeps
 * instead of the ids themselves, so a month of responses costs 8 bytes each.
 */
export function hash53(text: string): number {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193 ^ text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    h2 ^= h2 >>> 15;
  }
  return (h1 >>> 0) * 0x200000 + ((h2 >>> 0) & 0x1fffff);
}
