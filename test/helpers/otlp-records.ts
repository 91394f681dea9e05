/**
 * OTLP records shaped like Claude Code's and Codex's OpenTelemetry export
 * (attribute names from their public monitoring docs; Claude Code sends
 * numbers as strings). Shared by unit, integration and bench.
 */
import type { OtlpLogRecord, OtlpScalar } from '../../src/core/agents/otlp.ts';

export interface ApiRequestSpec {
  sessionId: string;
  at: number;
  requestId?: string;
  promptId?: string;
  sequence?: number;
  model?: string;
  input?: number;
  output?: number;
  cacheRead?: number;
  cacheCreation?: number;
  costUsd?: number;
}

/** A `claude_code.api_request` record. */
export function claudeApiRequest(s: ApiRequestSpec): OtlpLogRecord {
  const attrs: Record<string, OtlpScalar> = {
    'event.name': 'api_request',
    'event.timestamp': new Date(s.at).toISOString(),
    'session.id': s.sessionId,
    'prompt.id': s.promptId ?? 'prompt-1',
    'event.sequence': String(s.sequence ?? 1),
    model: s.model ?? 'claude-sonnet-4-5-20250929',
    input_tokens: String(s.input ?? 0),
    output_tokens: String(s.output ?? 0),
    cache_read_tokens: String(s.cacheRead ?? 0),
    cache_creation_tokens: String(s.cacheCreation ?? 0),
    duration_ms: '1830',
    'service.name': 'claude-code',
  };
  if (s.costUsd !== undefined) attrs.cost_usd = String(s.costUsd);
  if (s.requestId) attrs.request_id = s.requestId;
  return { name: 'claude_code.api_request', attrs, timeMs: s.at };
}

/** A `claude_code.tool_result` record. */
export function claudeToolResultRecord(s: {
  sessionId: string;
  at: number;
  toolUseId?: string;
  name: string;
  success: boolean;
  durationMs: number;
  parameters?: object;
}): OtlpLogRecord {
  const attrs: Record<string, OtlpScalar> = {
    'event.name': 'tool_result',
    'session.id': s.sessionId,
    tool_name: s.name,
    success: String(s.success),
    duration_ms: String(s.durationMs),
    'service.name': 'claude-code',
  };
  if (s.toolUseId) attrs.tool_use_id = s.toolUseId;
  if (s.parameters) attrs.tool_parameters = JSON.stringify(s.parameters);
  return { name: 'claude_code.tool_result', attrs, timeMs: s.at };
}

const anyValue = (v: OtlpScalar) =>
  typeof v === 'string'
    ? { stringValue: v }
    : typeof v === 'boolean'
      ? { boolValue: v }
      : Number.isInteger(v)
        ? { intValue: v }
        : { doubleValue: v };

/** An OTLP/JSON `ExportLogsServiceRequest` of records (the body, its name, attributes). */
export function otlpLogsJson(records: readonly OtlpLogRecord[]): object {
  return {
    resourceLogs: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'claude-code' } }] },
        scopeLogs: [
          {
            scope: { name: 'com.anthropic.claude_code.events', version: '2.0.31' },
            logRecords: records.map((r) => ({
              timeUnixNano: `${r.timeMs ?? 0}000000`,
              body: { stringValue: r.name },
              attributes: Object.entries(r.attrs)
                .filter(([k]) => k !== 'service.name')
                .map(([key, value]) => ({ key, value: anyValue(value) })),
            })),
          },
        ],
      },
    ],
  };
}
