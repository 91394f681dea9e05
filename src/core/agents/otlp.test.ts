import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  claudeAssistant,
  claudeCompaction,
  claudePrompt,
  codexLine,
  codexSessionMeta,
  codexTokenCount,
  codexTurnContext,
} from '../../../test/helpers/agent-transcripts.ts';
import { claudeApiRequest, claudeToolResultRecord } from '../../../test/helpers/otlp-records.ts';
import { AgentBook } from './book.ts';
import { parseClaudeLine } from './claude.ts';
import { CodexRolloutParser } from './codex.ts';
import { hookEvents } from './hooks.ts';
import {
  type OtlpLogRecord,
  type OtlpMetricPoint,
  otlpLogEvents,
  otlpMetricEvents,
} from './otlp.ts';
import { DEFAULT_PRICES } from './prices.ts';
import { fromSnapshot, snapshotText, toSnapshot } from './snapshot.ts';
import { detail, summarize } from './view.ts';

const T0 = Date.parse('2026-01-10T09:00:00Z');
const S = 'a1b2c3d4-0000-4000-8000-0000000000aa';
const b = (dt: number, agentId?: string) => ({
  sessionId: S,
  at: T0 + dt,
  ...(agentId ? { agentId } : {}),
});

function transcript(book: AgentBook, values: object[], agentId: string | null = null) {
  const file = agentId ? `/p/${S}/subagents/agent-${agentId}.jsonl` : `/p/${S}.jsonl`;
  for (const v of values) {
    for (const e of parseClaudeLine(v, { sessionId: S, agentId, now: T0 }).events)
      book.apply(e, file);
  }
}
function otel(book: AgentBook, records: OtlpLogRecord[]) {
  const { events, outcomes } = otlpLogEvents(records, T0);
  for (const e of events) book.apply(e, null);
  return outcomes;
}
function metrics(book: AgentBook, points: OtlpMetricPoint[]) {
  const { events, outcomes } = otlpMetricEvents(points, T0);
  for (const e of events) book.apply(e, null);
  return outcomes;
}

const USAGE = { input: 12, output: 300, cacheRead: 40_000, cache1h: 2000 };
const lineA = (dt: number, output: number) =>
  claudeAssistant(b(dt), {
    messageId: 'msg_A',
    requestId: 'req_A',
    usage: { ...USAGE, output },
    text: 'ok',
  });
const recordA = (extra: Partial<Parameters<typeof claudeApiRequest>[0]> = {}) =>
  claudeApiRequest({
    sessionId: S,
    at: T0 + 1500,
    requestId: 'req_A',
    input: 12,
    output: 300,
    cacheRead: 40_000,
    cacheCreation: 2000,
    costUsd: 0.0421,
    ...extra,
  });

function only(book: AgentBook) {
  const s = book.sessions.get(S);
  assert.ok(s);
  return summarize(s);
}

describe('OTel joined with transcripts', () => {
  for (const order of ['transcript first', 'OTel first'] as const) {
    test(`an api_request and the transcript's lines of one response count once (${order})`, () => {
      const book = new AgentBook(DEFAULT_PRICES);
      if (order === 'OTel first') assert.deepEqual(otel(book, [recordA()]), ['applied']);
      transcript(book, [claudePrompt(b(0), 'go'), lineA(1000, 5), lineA(1100, 300)]);
      if (order === 'transcript first') assert.deepEqual(otel(book, [recordA()]), ['applied']);
      const a = only(book);
      assert.equal(a.responses, 1);
      // Tokens from the transcript (it says the cache write was a 1-hour one), cost from OTel.
      assert.deepEqual(a.usage, {
        input: 12,
        output: 300,
        cacheRead: 40_000,
        cacheWrite5m: 0,
        cacheWrite1h: 2000,
      });
      assert.equal(a.costUsd, 0.0421);
    });
  }

  test('without a request id (older Claude Code) the record joins by its input tokens', () => {
    const book = new AgentBook(DEFAULT_PRICES);
    transcript(book, [lineA(1000, 300)]);
    otel(book, [recordA({ requestId: '', sequence: 7 })]);
    const second = claudeAssistant(b(3000), {
      messageId: 'msg_B',
      requestId: 'req_B',
      usage: { input: 5, output: 80, cacheRead: 42_300 },
    });
    transcript(book, [second]);
    const a = only(book);
    assert.equal(a.responses, 2);
    assert.equal(a.usage.output, 380);
    assert.ok(Math.abs(a.costUsd - (0.0421 + (5 * 3 + 80 * 15 + 42_300 * 0.3) / 1e6)) < 1e-9);
  });

  test("an exporter's retried batch counts once; an OTel-only session is counted at OTel's cost", () => {
    const book = new AgentBook(DEFAULT_PRICES);
    otel(book, [recordA()]);
    otel(book, [recordA()]);
    const a = only(book);
    assert.equal(a.responses, 1);
    assert.equal(a.costUsd, 0.0421);
    assert.equal(a.usage.cacheWrite5m, 2000);
    assert.equal(book.stats.duplicates, 1);
  });

  test("a subagent's response first seen in OTel moves to the subagent when its transcript comes", () => {
    const book = new AgentBook(DEFAULT_PRICES);
    otel(book, [recordA()]);
    transcript(book, [lineA(1000, 300)], 'sub1');
    const d = detail(book.sessions.get(S) as never);
    const main = d.agents.find((n) => n.agentId === null);
    const sub = d.agents.find((n) => n.agentId === 'sub1');
    assert.equal(main?.responses ?? 0, 0);
    assert.equal(main?.costUsd ?? 0, 0);
    assert.equal(sub?.responses, 1);
    assert.equal(sub?.costUsd, 0.0421);
    assert.equal(d.summary.responses, 1);
  });

  test('a tool result with its tool-use id joins the transcript call; one without is not counted', () => {
    const book = new AgentBook(DEFAULT_PRICES);
    transcript(book, [
      claudeAssistant(b(1000), {
        messageId: 'm',
        requestId: 'r',
        usage: { input: 1, output: 1 },
        toolUse: { id: 'toolu_9', name: 'Bash', input: { command: 'npm test' } },
      }),
    ]);
    const outcomes = otel(book, [
      claudeToolResultRecord({
        sessionId: S,
        at: T0 + 4000,
        toolUseId: 'toolu_9',
        name: 'Bash',
        success: false,
        durationMs: 2500,
      }),
      claudeToolResultRecord({
        sessionId: S,
        at: T0 + 5000,
        name: 'Read',
        success: true,
        durationMs: 3,
      }),
    ]);
    assert.deepEqual(outcomes, ['applied', 'ignored']);
    const d = detail(book.sessions.get(S) as never);
    assert.equal(d.summary.toolCalls, 1);
    assert.equal(d.summary.toolErrors, 1);
    assert.deepEqual(
      d.tools.map((t) => [t.id, t.outcome, t.durationMs]),
      [['toolu_9', 'error', 3000]],
    );
  });

  test('hooks, transcript and OTel all on: one prompt, one tool call, one response', () => {
    const book = new AgentBook(DEFAULT_PRICES);
    const hook = (p: Record<string, unknown>, at: number) => {
      const payload = { session_id: S, transcript_path: '/p/x.jsonl', cwd: '/home/dev/w', ...p };
      for (const e of hookEvents(payload as never, at).events) book.apply(e, null);
    };
    hook({ hook_event_name: 'UserPromptSubmit', prompt: 'run the tests' }, T0);
    otel(book, [
      {
        name: 'claude_code.user_prompt',
        attrs: { 'event.name': 'user_prompt', 'session.id': S, prompt: 'run the tests' },
        timeMs: T0 + 5,
      },
    ]);
    hook(
      {
        hook_event_name: 'PreToolUse',
        tool_name: 'Bash',
        tool_input: { command: 'npm test' },
        tool_use_id: 'toolu_all',
      },
      T0 + 1200,
    );
    transcript(book, [
      claudePrompt(b(0), 'run the tests'),
      claudeAssistant(b(1000), {
        messageId: 'msg_A',
        requestId: 'req_A',
        usage: { ...USAGE, output: 300 },
        toolUse: { id: 'toolu_all', name: 'Bash', input: { command: 'npm test' } },
      }),
    ]);
    otel(book, [
      recordA(),
      claudeToolResultRecord({
        sessionId: S,
        at: T0 + 3200,
        toolUseId: 'toolu_all',
        name: 'Bash',
        success: true,
        durationMs: 2000,
      }),
    ]);
    hook(
      { hook_event_name: 'PostToolUse', tool_name: 'Bash', tool_use_id: 'toolu_all' },
      T0 + 3250,
    );
    const d = detail(book.sessions.get(S) as never);
    assert.equal(d.summary.prompts, 1);
    assert.equal(d.summary.toolCalls, 1);
    assert.equal(d.summary.responses, 1);
    assert.equal(d.summary.costUsd, 0.0421);
    // From the call's first sighting (the transcript's tool_use) to its first result (OTel's).
    assert.deepEqual(
      d.tools.map((t) => [t.id, t.outcome, t.durationMs]),
      [['toolu_all', 'ok', 2200]],
    );
  });

  test("OTel's api_error counts only for a session without a transcript (which records its own)", () => {
    const book = new AgentBook(DEFAULT_PRICES);
    const apiError = (sessionId: string): OtlpLogRecord => ({
      name: 'claude_code.api_error',
      attrs: {
        'event.name': 'api_error',
        'session.id': sessionId,
        error: 'Overloaded',
        status_code: '529',
      },
      timeMs: T0 + 10,
    });
    transcript(book, [lineA(1000, 300)]);
    otel(book, [apiError(S), apiError('otel-only-session')]);
    assert.equal(book.sessions.get(S)?.errors, 0);
    assert.equal(book.sessions.get('otel-only-session')?.errors, 1);
    assert.deepEqual(
      book.sessions.get('otel-only-session')?.events.map((x) => x.text),
      ['529 Overloaded'],
    );
  });

  test('unknown events and records without a session are counted, not applied', () => {
    const book = new AgentBook(DEFAULT_PRICES);
    const outcomes = otel(book, [
      { name: 'claude_code.brand_new_event', attrs: { 'session.id': S }, timeMs: T0 },
      { name: 'http.server.request', attrs: {}, timeMs: T0 },
      { ...recordA(), attrs: { ...recordA().attrs, 'session.id': '' } },
      { name: 'claude_code.api_request_body', attrs: { 'session.id': S }, timeMs: T0 },
    ]);
    assert.deepEqual(outcomes, ['unknown', 'unknown', 'unattributed', 'ignored']);
    assert.equal(book.sessions.size, 0);
  });
});

const point = (
  name: string,
  attrs: Record<string, string>,
  value: number,
  t: number,
  cumulative = false,
): OtlpMetricPoint => ({
  name,
  attrs: { 'session.id': S, model: 'claude-opus-4-5', ...attrs },
  value,
  cumulative,
  startMs: cumulative ? T0 : T0 + t - 1000,
  timeMs: T0 + t,
});

describe('Codex OTel events', () => {
  const C = '0199a213-81c0-7800-8aa1-bbab2a035a53';
  const codex = (name: string, attrs: Record<string, string>, dt: number): OtlpLogRecord => ({
    name: `codex.${name}`,
    attrs: {
      'event.name': `codex.${name}`,
      'conversation.id': C,
      'app.version': '0.46.0',
      model: 'gpt-5-codex',
      ...attrs,
    },
    timeMs: T0 + dt,
  });

  test("a response.completed joins the rollout's token count; tool results join by call id", () => {
    const book = new AgentBook(DEFAULT_PRICES);
    const parser = new CodexRolloutParser(C);
    const rollout = [
      codexSessionMeta(T0, C, '/home/dev/api'),
      codexTurnContext(T0 + 1, 'gpt-5-codex', '/home/dev/api'),
      codexLine(T0 + 10, 'response_item', {
        type: 'function_call',
        name: 'shell',
        arguments: JSON.stringify({ command: ['npm', 'test'] }),
        call_id: 'call_1',
      }),
      codexTokenCount(
        T0 + 20,
        { input: 9000, cached: 8000, output: 300 },
        { input: 9000, cached: 8000, output: 300 },
      ),
    ];
    for (const line of rollout) {
      for (const e of parser.parse(line, T0).events) book.apply(e, '/codex/rollout.jsonl');
    }
    const outcomes = otel(book, [
      codex('conversation_starts', { provider_name: 'openai' }, 0),
      codex(
        'sse_event',
        {
          'event.kind': 'response.completed',
          input_token_count: '9000',
          cached_token_count: '8000',
          output_token_count: '300',
        },
        25,
      ),
      codex(
        'tool_result',
        { tool_name: 'shell', call_id: 'call_1', duration_ms: '900', success: 'true' },
        30,
      ),
      codex('sse_event', { 'event.kind': 'response.output_text.delta' }, 26),
    ]);
    assert.deepEqual(outcomes, ['applied', 'applied', 'applied', 'ignored']);
    const d = detail(book.sessions.get(C) as never);
    assert.equal(d.summary.responses, 1);
    assert.deepEqual(d.summary.usage, {
      input: 1000,
      output: 300,
      cacheRead: 8000,
      cacheWrite5m: 0,
      cacheWrite1h: 0,
    });
    assert.deepEqual(
      d.tools.map((t) => [t.id, t.outcome]),
      [['call_1', 'ok']],
    );
  });
});

describe('OTel usage metrics', () => {
  test('delta points add up, a retried point does not, and they are the totals of a session with nothing else', () => {
    const book = new AgentBook(DEFAULT_PRICES);
    const batch = [
      point('claude_code.cost.usage', {}, 0.25, 1000),
      point('claude_code.token.usage', { type: 'input' }, 100, 1000),
      point('claude_code.token.usage', { type: 'cacheRead' }, 9000, 1000),
      point('claude_code.session.count', {}, 1, 1000),
      point('claude_code.something_new', {}, 1, 1000),
    ];
    assert.deepEqual(metrics(book, batch), ['applied', 'applied', 'applied', 'ignored', 'unknown']);
    metrics(book, batch);
    metrics(book, [point('claude_code.cost.usage', {}, 0.5, 2000)]);
    const a = only(book);
    assert.equal(a.costUsd, 0.75);
    assert.equal(a.usage.input, 100);
    assert.equal(a.usage.cacheRead, 9000);
    assert.equal(a.responses, 0);
  });

  test('a cumulative point replaces its series; responses, once there, take over', () => {
    const book = new AgentBook(DEFAULT_PRICES);
    metrics(book, [point('claude_code.cost.usage', {}, 0.2, 1000, true)]);
    metrics(book, [point('claude_code.cost.usage', {}, 0.3, 2000, true)]);
    assert.equal(only(book).costUsd, 0.3);
    otel(book, [recordA()]);
    assert.equal(only(book).costUsd, 0.0421);
  });
});

describe('cost per phase', () => {
  test("a response's phase is the build's when the engine names one, else its context window", () => {
    const book = new AgentBook(DEFAULT_PRICES);
    const events = otlpLogEvents([recordA()], T0).events.map((e) =>
      e.type === 'response' ? { ...e, phase: 'Builder' } : e,
    );
    for (const e of events) book.apply(e, null);
    transcript(book, [
      claudeCompaction(b(2000), 150_000),
      claudeAssistant(b(3000), {
        messageId: 'm2',
        requestId: 'r2',
        usage: { input: 1000, output: 100 },
      }),
    ]);
    const phases = summarize(book.sessions.get(S) as never).phases;
    assert.deepEqual(
      phases.map((p) => [p.phase, p.responses, p.costUsd]),
      [
        ['Builder', 1, 0.0421],
        ['context 2', 1, (1000 * 3 + 100 * 15) / 1e6],
      ],
    );
  });

  test('a checkpoint keeps phases, joins and metric series', () => {
    const book = new AgentBook(DEFAULT_PRICES);
    transcript(book, [lineA(1000, 300)]);
    metrics(book, [point('claude_code.cost.usage', {}, 0.2, 1000)]);
    const text = [...snapshotText(book)].join('');
    assert.equal(text, JSON.stringify(toSnapshot(book)));
    const restored = fromSnapshot(DEFAULT_PRICES, JSON.parse(text));
    assert.ok(restored);
    otel(restored, [recordA()]);
    const a = only(restored);
    assert.equal(a.responses, 1);
    assert.equal(a.costUsd, 0.0421);
    assert.deepEqual(
      a.phases.map((p) => p.phase),
      ['context 1'],
    );
    assert.equal(Object.keys(restored.sessions.get(S)?.metricSeries ?? {}).length, 1);
  });
});

describe('memory over a month of history', () => {
  test('a long-idle session forgets its recent responses, and a copy of one still counts once', () => {
    const book = new AgentBook(DEFAULT_PRICES);
    transcript(book, [lineA(1000, 300)]);
    const other = 'ffffffff-0000-4000-8000-000000000000';
    const later = T0 + 3_600_000;
    for (let i = 0; i < 25_000; i++) {
      book.apply(
        {
          agent: 'claude',
          sessionId: other,
          agentId: null,
          at: later + i,
          source: 'hook',
          type: 'meta',
        },
        null,
      );
    }
    const s = book.sessions.get(S);
    assert.equal(s?.recent.size, 0);
    transcript(book, [lineA(1000, 300)]);
    assert.equal(only(book).responses, 1);
    assert.equal(only(book).usage.output, 300);
  });
});
