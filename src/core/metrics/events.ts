import { parseInstant } from '../time.ts';
import { utf8Length } from '../utf8.ts';

/** A session event (events.jsonl line or broadcast) as a log line. */
export interface EventLine {
  at: number;
  /** The event type (`phase_change`, `log_line`, …); `event` when absent. */
  kind: string;
  text: string;
  /** The `session_id` the event itself names, when any. */
  sessionId: string | null;
  /**
   * Identity of an event that carries a `sequence`: the ralph runner writes
   * each event to events.jsonl AND posts it to /api/broadcast with the same
   * envelope, so the second copy is recognised and dropped. The sequence
   * restarts with each runner process, hence type and timestamp too.
   */
  identity: string | null;
}

const MAX_TEXT = 2000;

function oneLine(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  const flat = (text ?? '').replace(/\s+/g, ' ').trim();
  return flat.length > MAX_TEXT ? `${flat.slice(0, MAX_TEXT - 1)}…` : flat;
}

function field(data: Record<string, unknown>, ...names: string[]): string | null {
  for (const name of names) {
    const v = data[name];
    if (typeof v === 'string' && v.trim() !== '') return v.trim();
    if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  }
  return null;
}

/** What a reader wants to see of an event's data, by type. */
function summarise(kind: string, data: unknown): string {
  if (data === undefined || data === null) return '';
  if (typeof data !== 'object' || Array.isArray(data)) return oneLine(data);
  const d = data as Record<string, unknown>;
  switch (kind) {
    case 'phase_change': {
      const from = field(d, 'from', 'from_phase', 'previous_phase', 'old_phase');
      const to = field(d, 'to', 'to_phase', 'phase', 'current_phase', 'new_phase');
      if (to) return from ? `${from} → ${to}` : to;
      break;
    }
    case 'iteration_start':
    case 'iteration_complete': {
      const n = field(d, 'iteration', 'iteration_number', 'n');
      const rest = field(d, 'status', 'result', 'summary', 'message');
      if (n) return rest ? `iteration ${n}: ${rest}` : `iteration ${n}`;
      break;
    }
    case 'log_line': {
      const line = field(d, 'line', 'message', 'text', 'content');
      if (line) return oneLine(line);
      break;
    }
    case 'error': {
      const message = field(d, 'message', 'error', 'error_message', 'detail');
      if (message) return oneLine(message);
      break;
    }
    default: {
      const message = field(d, 'message', 'task', 'title', 'description', 'summary', 'status');
      if (message) return oneLine(message);
    }
  }
  return oneLine(d);
}

/**
 * A readable line for one event object (`{type, session_id, timestamp,
 * sequence, data}`); null when the value is not an object.
 */
export function eventLine(value: unknown, receivedAt: number): EventLine | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const e = value as Record<string, unknown>;
  const kind = typeof e.type === 'string' && /^[\w.:-]{1,64}$/.test(e.type) ? e.type : 'event';
  const data = 'data' in e ? e.data : withoutEnvelope(e);
  const described = summarise(kind, data);
  return {
    // The shared rule: no zone = UTC, epoch s/ms accepted; unreadable = the time it arrived.
    at: parseInstant(e.timestamp) ?? receivedAt,
    kind,
    text: described ? `${kind}: ${described}` : kind,
    sessionId: typeof e.session_id === 'string' && e.session_id !== '' ? e.session_id : null,
    identity:
      typeof e.sequence === 'number' || typeof e.sequence === 'string'
        ? `${String(e.sequence)}|${kind}|${String(e.timestamp ?? '')}`
        : null,
  };
}

function withoutEnvelope(e: Record<string, unknown>): Record<string, unknown> | undefined {
  const rest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e)) {
    if (k !== 'type' && k !== 'session_id' && k !== 'timestamp' && k !== 'sequence') rest[k] = v;
  }
  return Object.keys(rest).length > 0 ? rest : undefined;
}

/** Largest `/api/broadcast` event accepted, serialised. */
export const MAX_BROADCAST_BYTES = 64 * 1024;

/**
 * An event POSTed to `/api/broadcast/:id`, checked: a usable session id, a
 * JSON object, at most `MAX_BROADCAST_BYTES` serialised.
 */
export function parseBroadcast(
  sessionId: string,
  body: unknown,
  receivedAt: number,
): { ok: true; line: EventLine } | { ok: false; error: string; message: string } {
  if (sessionId.length === 0 || sessionId.length > 512 || sessionId.includes('\0')) {
    return { ok: false, error: 'bad_request', message: 'The session id must be 1-512 characters.' };
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return {
      ok: false,
      error: 'bad_request',
      message:
        'The body must be a JSON object (an event such as {"type":"log_line","data":{...}}).',
    };
  }
  const size = utf8Length(JSON.stringify(body));
  if (size > MAX_BROADCAST_BYTES) {
    return {
      ok: false,
      error: 'too_large',
      message: `The event is ${size} bytes; the limit is ${MAX_BROADCAST_BYTES}.`,
    };
  }
  return { ok: true, line: eventLine(body, receivedAt) as EventLine };
}
