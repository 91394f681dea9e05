import type { BudgetLevel, TokenPoint, TokenUsage } from '../../shared/metrics.ts';
import { parseInstant } from '../time.ts';

/** Tokens a session may use before the budget is spent, unless configured. */
export const DEFAULT_TOKEN_BUDGET = 200_000;
/** Points kept in a usage series; older points are merged pairwise beyond this. */
export const MAX_SERIES_POINTS = 500;

/** The token figures of one `session.jsonl` line, as written. */
export interface TokenReading {
  /**
   * The line's own timestamp by the shared rule of `parseInstant` (no zone =
   * UTC, as for phase files); null when absent or unreadable. Not bounded to a
   * plausible window: the producer's clock writes it, not an LLM.
   */
  at: number | null;
  input: number | null;
  output: number | null;
  /** The producer's running totals. */
  totalInput: number | null;
  totalOutput: number | null;
  contextPercent: number | null;
  model: string | null;
}

function count(value: unknown): number | null {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) && n >= 0 ? n : null;
}

/**
 * The token figures of a parsed `session.jsonl` line; null when the line
 * carries none (not an object, or no metadata figures).
 */
export function readSessionLogLine(line: unknown): TokenReading | null {
  if (typeof line !== 'object' || line === null || Array.isArray(line)) return null;
  const meta = (line as { metadata?: unknown }).metadata;
  if (typeof meta !== 'object' || meta === null) return null;
  const m = meta as Record<string, unknown>;
  const reading: TokenReading = {
    at: parseInstant((line as { timestamp?: unknown }).timestamp),
    input: count(m.input_tokens),
    output: count(m.output_tokens),
    totalInput: count(m.total_input),
    totalOutput: count(m.total_output),
    contextPercent: count(m.context_percentage),
    model: typeof m.model === 'string' && m.model.length <= 200 ? m.model : null,
  };
  const figures = [reading.input, reading.output, reading.totalInput, reading.totalOutput];
  return figures.some((f) => f !== null) ? reading : null;
}

/** `warning` from 50 %, `critical` from 75 % of the budget. */
export function budgetLevel(percent: number): BudgetLevel {
  if (percent >= 75) return 'critical';
  if (percent >= 50) return 'warning';
  return 'ok';
}

function merge(a: TokenPoint, b: TokenPoint): TokenPoint {
  return { ...b, input: a.input + b.input, output: a.output + b.output };
}

/**
 * The running token account of one source of one session. Per-point figures
 * are the line's `input_tokens`/`output_tokens`, or, when a line only has the
 * producer's running totals, their increase since the previous line; the
 * account's totals are the sum of the points, so `byPhase` always adds up.
 */
export class TokenLedger {
  #input = 0;
  #output = 0;
  #producerIn: number | null = null;
  #producerOut: number | null = null;
  #model: string | null = null;
  #context: number | null = null;
  #points = 0;
  #series: TokenPoint[] = [];
  readonly #byPhase = new Map<string, { input: number; output: number }>();
  /** Newest point time and the points at exactly that time: re-read lines at or before it are skipped. */
  #highWater = Number.NEGATIVE_INFINITY;
  #atHighWater = new Set<string>();
  #replaying = false;

  constructor(readonly maxSeries = MAX_SERIES_POINTS) {}

  get points(): number {
    return this.#points;
  }

  /**
   * A file is being read again from its start (rotation, truncation, or a
   * resumed offset): lines already counted are recognised by time and skipped
   * until a newer line shows up.
   */
  beginReplay(): void {
    this.#replaying = true;
    this.#producerIn = null;
    this.#producerOut = null;
  }

  /** Accounts one reading; returns the point to persist, or null for a duplicate or an empty reading. */
  add(reading: TokenReading, phase: string | null, receivedAt: number): TokenPoint | null {
    // After a restore the producer's last totals are unknown: ours stand in for them.
    const prevIn = this.#producerIn ?? (this.#points > 0 ? this.#input : null);
    const prevOut = this.#producerOut ?? (this.#points > 0 ? this.#output : null);
    const input = reading.input ?? delta(reading.totalInput, prevIn);
    const output = reading.output ?? delta(reading.totalOutput, prevOut);
    if (reading.totalInput !== null) this.#producerIn = reading.totalInput;
    if (reading.totalOutput !== null) this.#producerOut = reading.totalOutput;
    const at = reading.at ?? receivedAt;
    if (this.#replaying) {
      const key = `${input}|${output}`;
      if (at < this.#highWater || (at === this.#highWater && this.#atHighWater.has(key)))
        return null;
      if (at > this.#highWater) this.#replaying = false;
    }
    const point: TokenPoint = {
      at,
      input,
      output,
      cumulativeInput: this.#input + input,
      cumulativeOutput: this.#output + output,
      contextPercent: reading.contextPercent,
      model: reading.model,
      phase,
    };
    this.#account(point);
    return point;
  }

  /** Rebuilds the account from stored points (oldest first); duplicates are dropped. */
  load(points: readonly TokenPoint[]): void {
    const sorted = [...points].sort((a, b) => a.at - b.at || a.cumulativeInput - b.cumulativeInput);
    const seen = new Set<string>();
    for (const p of sorted) {
      const key = `${p.at}|${p.input}|${p.output}|${p.phase}`;
      if (seen.has(key)) continue;
      seen.add(key);
      this.#account({
        ...p,
        cumulativeInput: this.#input + p.input,
        cumulativeOutput: this.#output + p.output,
      });
    }
    if (sorted.length > 0) this.beginReplay();
  }

  /** Tokens per phase (a copy), or null when nothing has been accounted: cheaper than `usage`. */
  byPhase(): Record<string, { input: number; output: number }> | null {
    if (this.#points === 0) return null;
    const byPhase: Record<string, { input: number; output: number }> = {};
    for (const [phase, v] of this.#byPhase) byPhase[phase] = { ...v };
    return byPhase;
  }

  /** The usage to show, or null when nothing has been accounted. */
  usage(budget: number): TokenUsage | null {
    const byPhase = this.byPhase();
    if (byPhase === null) return null;
    const total = this.#input + this.#output;
    const percent = budget > 0 ? Math.round((total / budget) * 10_000) / 100 : 0;
    return {
      input: this.#input,
      output: this.#output,
      total,
      budget,
      percentOfBudget: percent,
      level: budgetLevel(percent),
      model: this.#model,
      contextPercent: this.#context,
      byPhase,
      series: [...this.#series],
    };
  }

  #account(point: TokenPoint): void {
    this.#input += point.input;
    this.#output += point.output;
    this.#points++;
    if (point.model !== null) this.#model = point.model;
    if (point.contextPercent !== null) this.#context = point.contextPercent;
    const phase = point.phase ?? 'unknown';
    const byPhase = this.#byPhase.get(phase) ?? { input: 0, output: 0 };
    this.#byPhase.set(phase, {
      input: byPhase.input + point.input,
      output: byPhase.output + point.output,
    });
    const key = `${point.input}|${point.output}`;
    if (point.at > this.#highWater) {
      this.#highWater = point.at;
      this.#atHighWater = new Set([key]);
    } else if (point.at === this.#highWater) this.#atHighWater.add(key);
    this.#series.push(point);
    if (this.#series.length > this.maxSeries) this.#series = compact(this.#series);
  }
}

function delta(total: number | null, previous: number | null): number {
  if (total === null) return 0;
  return Math.max(0, total - (previous ?? 0));
}

/** Halves the resolution of the older half of a series; the newer half stays exact. */
function compact(series: TokenPoint[]): TokenPoint[] {
  const half = Math.floor(series.length / 2);
  const out: TokenPoint[] = [];
  for (let i = 0; i + 1 < half; i += 2)
    out.push(merge(series[i] as TokenPoint, series[i + 1] as TokenPoint));
  if (half % 2 === 1) out.push(series[half - 1] as TokenPoint);
  for (let i = half; i < series.length; i++) out.push(series[i] as TokenPoint);
  return out;
}
