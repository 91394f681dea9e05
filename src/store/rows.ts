import type { AgentNode, Decision, TestIteration, TokenPoint } from '../shared/metrics.ts';
import type { LogLine, PhaseTransition, SessionStatus } from '../shared/model.ts';
import type { StoredTransition } from './types.ts';

/**
 * Row ⇄ model mapping. Reading never trusts the file: a row that does not
 * parse back into its model yields null and the caller skips it.
 */

type Row = Record<string, unknown>;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseObject(text: unknown): Record<string, unknown> | null {
  if (typeof text !== 'string') return null;
  try {
    const value: unknown = JSON.parse(text);
    return isObject(value) ? value : null;
  } catch {
    return null;
  }
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' ? v : null);

export function sessionFromRow(row: Row): SessionStatus | null {
  const status = parseObject(row.status);
  if (!status || typeof status.id !== 'string' || typeof status.state !== 'string') return null;
  return status as unknown as SessionStatus;
}

/** The stored document; `undefined` when the column is not valid JSON. */
export function documentFromRow(row: Row): unknown {
  if (typeof row.document !== 'string') return undefined;
  try {
    return JSON.parse(row.document);
  } catch {
    return undefined;
  }
}

export function transitionFromRow(row: Row): PhaseTransition | null {
  const sessionKey = str(row.session_key);
  const to = str(row.to_phase);
  const at = num(row.at);
  const status = str(row.status);
  if (sessionKey === null || to === null || at === null || status === null) return null;
  return {
    sessionKey,
    from: str(row.from_phase),
    to,
    at,
    phaseNumber: str(row.phase_number),
    status,
  };
}

export function storedTransitionFromRow(row: Row): StoredTransition | null {
  const id = num(row.id);
  const t = transitionFromRow(row);
  if (id === null || t === null) return null;
  return Object.assign(t, { id });
}

export function tokenPointFromRow(row: Row): TokenPoint | null {
  const at = num(row.at);
  const input = num(row.input);
  const output = num(row.output);
  const cumulativeInput = num(row.cumulative_input);
  const cumulativeOutput = num(row.cumulative_output);
  if (
    at === null ||
    input === null ||
    output === null ||
    cumulativeInput === null ||
    cumulativeOutput === null
  ) {
    return null;
  }
  return {
    at,
    input,
    output,
    cumulativeInput,
    cumulativeOutput,
    contextPercent: num(row.context_percent),
    model: str(row.model),
    phase: str(row.phase),
  };
}

export function testIterationFromRow(row: Row): TestIteration | null {
  const iteration = num(row.iteration);
  const source = str(row.source);
  const updatedAt = num(row.updated_at);
  if (iteration === null || source === null || updatedAt === null) return null;
  return {
    iteration,
    total: num(row.total),
    passed: num(row.passed),
    failed: num(row.failed),
    skipped: num(row.skipped),
    durationMs: num(row.duration_ms),
    source,
    updatedAt,
  };
}

export function agentFromRow(row: Row): AgentNode | null {
  const agent = parseObject(row.data);
  if (!agent || typeof agent.agentId !== 'string' || typeof agent.status !== 'string') return null;
  return agent as unknown as AgentNode;
}

export function decisionFromRow(row: Row): Decision | null {
  const decision = parseObject(row.data);
  if (!decision || typeof decision.id !== 'string' || typeof decision.kind !== 'string') {
    return null;
  }
  return decision as unknown as Decision;
}

const LEVELS: ReadonlySet<string> = new Set(['info', 'warn', 'error', 'event']);

export function logLineFromRow(row: Row): LogLine | null {
  const n = num(row.n);
  const at = num(row.at);
  const level = str(row.level);
  const text = str(row.text);
  if (n === null || at === null || text === null || level === null || !LEVELS.has(level)) {
    return null;
  }
  const line: LogLine = { n, at, level: level as LogLine['level'], text };
  const kind = str(row.kind);
  if (kind !== null) line.kind = kind;
  return line;
}
