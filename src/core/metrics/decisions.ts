import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import type { Decision, DecisionKind } from '../../shared/metrics.ts';
import { utf8Bytes } from '../utf8.ts';

/** Which decision file a path is, relative to its project; null for other files. */
export function decisionFileKind(relPath: string): 'feedback' | 'patterns' | null {
  if (/(?:^|\/)\.context-foundry\/feedback\/build-feedback-[^/]*\.json$/.test(relPath)) {
    return 'feedback';
  }
  if (/(?:^|\/)\.context-foundry\/patterns\/common-issues\.json$/.test(relPath)) return 'patterns';
  return null;
}

export interface DecisionParse {
  decisions: Decision[];
  /** Entries that were not objects or had nothing to show. */
  skipped: number;
  /** The document was not of the expected shape at all. */
  problem: string | null;
}

const MAX_TEXT = 4000;

function str(...values: unknown[]): string | null {
  for (const v of values) {
    if (typeof v === 'string' && v.trim() !== '') return v.trim().slice(0, MAX_TEXT);
    if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  }
  return null;
}

/**
 * A value shown as text: strings as written; a nested object (real feedback
 * files write `issue: {description, …}`, `solution: {scout: {action}, …}`,
 * `solution_implemented: {"package.json": "…"}`) by its description, else as
 * "key: text; key: text" of its leaves, two levels deep.
 */
function text(value: unknown, depth = 0): string | null {
  const plain = str(value);
  if (plain !== null || typeof value !== 'object' || value === null) return plain;
  if (Array.isArray(value)) return list(value);
  const o = value as Record<string, unknown>;
  const own = str(o.description, o.summary, o.action, o.fix);
  if (own !== null) return own;
  if (depth >= 2) return null;
  const parts: string[] = [];
  for (const [k, v] of Object.entries(o)) {
    const inner = text(v, depth + 1);
    if (inner !== null) parts.push(`${k}: ${inner}`);
  }
  return parts.length > 0 ? parts.join('; ').slice(0, MAX_TEXT) : null;
}

function list(value: unknown): string | null {
  if (Array.isArray(value)) {
    const items = value.filter((v) => typeof v === 'string' && v.trim() !== '');
    return items.length > 0 ? items.join(', ').slice(0, MAX_TEXT) : null;
  }
  return str(value);
}

/**
 * A stable id for an entry the producer gave none. Stored ids depend on it:
 * it must stay the first 16 hex digits of SHA-256 over the UTF-8 text (what
 * node:crypto computed before core went I/O-free; see decisions.test.ts).
 */
function hashId(kind: DecisionKind, title: string, phase: string | null): string {
  const digest = bytesToHex(sha256(utf8Bytes(`${kind}\0${title}\0${phase ?? ''}`)));
  return `h-${digest.slice(0, 16)}`;
}

/** Fields already shown in their own columns; the rest stay in `details`. */
const SHOWN = new Set([
  'id',
  'pattern_id',
  'issue',
  'title',
  'pattern',
  'name',
  'description',
  'detected_in_phase',
  'phase',
  'solution_implemented',
  'solution',
  'prevention',
  'severity',
]);

function decision(kind: DecisionKind, entry: unknown, source: string, at: number): Decision | null {
  if (typeof entry === 'string' && entry.trim() !== '') entry = { description: entry };
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return null;
  const e = entry as Record<string, unknown>;
  const title = str(e.title, e.pattern, e.name) ?? text(e.issue) ?? str(e.description);
  const producerId = str(e.pattern_id, e.id);
  if (title === null && producerId === null) return null;
  const nested =
    typeof e.issue === 'object' && e.issue !== null ? (e.issue as Record<string, unknown>) : {};
  const phase =
    str(e.detected_in_phase, e.phase, nested.detected_in_phase) ?? list(e.applies_to_phases);
  const details: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(e)) if (!SHOWN.has(key)) details[key] = value;
  const shownTitle = title ?? (producerId as string);
  return {
    // Kinds have their own id spaces: a feedback issue and a common issue may share one.
    id: `${kind}:${producerId ?? hashId(kind, shownTitle, phase)}`,
    kind,
    title: shownTitle,
    phase,
    solution: text(e.solution_implemented) ?? text(e.solution) ?? text(e.prevention),
    severity: str(e.severity),
    source,
    updatedAt: at,
    details,
  };
}

function entries(
  doc: Record<string, unknown>,
  field: string,
  kind: DecisionKind,
  source: string,
  at: number,
  out: DecisionParse,
): void {
  const value = doc[field];
  if (value === undefined || value === null) return;
  if (!Array.isArray(value)) {
    out.skipped++;
    return;
  }
  for (const entry of value) {
    const d = decision(kind, entry, source, at);
    if (d) out.decisions.push(d);
    else out.skipped++;
  }
}

/**
 * Decisions of a parsed feedback (`issues_found`, `successful_patterns`) or
 * patterns (`patterns`) document. Odd entries are skipped and counted; an
 * id seen twice in one file keeps its last entry.
 */
export function parseDecisionFile(
  kind: 'feedback' | 'patterns',
  doc: unknown,
  source: string,
  at: number,
): DecisionParse {
  const out: DecisionParse = { decisions: [], skipped: 0, problem: null };
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    out.problem = 'expected a JSON object';
    return out;
  }
  const d = doc as Record<string, unknown>;
  if (kind === 'feedback') {
    entries(d, 'issues_found', 'issue', source, at, out);
    entries(d, 'successful_patterns', 'pattern', source, at, out);
  } else {
    entries(d, 'patterns', 'common_issue', source, at, out);
  }
  const byId = new Map<string, Decision>();
  for (const decision of out.decisions) byId.set(decision.id, decision);
  out.decisions = [...byId.values()];
  return out;
}

/**
 * Which of two entries with one id (the same issue in two feedback files)
 * is shown: the newer file's, then the later file name — never the order
 * files happened to be read in, so a restart shows the same one.
 */
export function preferDecision(a: Decision, b: Decision): Decision {
  if (a.updatedAt !== b.updatedAt) return a.updatedAt > b.updatedAt ? a : b;
  return a.source.localeCompare(b.source) >= 0 ? a : b;
}

/** True when two decisions differ in more than their timestamp. */
export function decisionChanged(a: Decision, b: Decision): boolean {
  return JSON.stringify({ ...a, updatedAt: 0 }) !== JSON.stringify({ ...b, updatedAt: 0 });
}
