import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  claudeAssistant,
  claudeCompaction,
  claudePrompt,
  claudeSummary,
  claudeToolResult,
  codexLine,
  codexSessionMeta,
  codexTokenCount,
  codexTurnContext,
} from '../../../test/helpers/agent-transcripts.ts';
import { AgentBook } from './book.ts';
import { parseClaudeLine } from './claude.ts';
import { CodexRolloutParser } from './codex.ts';
import { DEFAULT_PRICES, mergePrices, priceOf } from './prices.ts';
import { detail, summarize } from './view.ts';

const T0 = Date.parse('2026-01-10T09:00:00Z');
const S = 'a1b2c3d4-0000-4000-8000-000000000001';

function feed(
  book: AgentBook,
  values: object[],
  file = '/p/main.jsonl',
  agentId: string | null = null,
) {
  for (const v of values) {
    const { events } = parseClaudeLine(v, { sessionId: S, agentId, now: T0 });
    for (const e of events) book.apply(e, file);
  }
}

const b = (dt: number, agentId?: string) => ({
  sessionId: S,
  at: T0 + dt,
  ...(agentId ? { agentId } : {}),
});

describe('AgentBook with Claude transcripts', () => {
  test('one response written as several lines counts once, with its fullest usage', () => {
    const book = new AgentBook(DEFAULT_PRICES);
    const r = { messageId: 'msg_A', requestId: 'req_A' };
    feed(book, [
      claudePrompt(b(0), 'add a cache'),
      claudeAssistant(b(1000), {
        ...r,
        usage: { input: 10, output: 1, cache5m: 1000 },
        text: 'On it',
      }),
      claudeAssistant(b(1100), {
        ...r,
        usage: { input: 10, output: 40, cache5m: 1000 },
        toolUse: { id: 'toolu_1', name: 'Read', input: { file_path: '/src/a.ts' } },
      }),
      claudeAssistant(b(1200), {
        ...r,
        usage: { input: 10, output: 40, cache5m: 1000 },
        toolUse: { id: 'toolu_2', name: 'Grep', input: { pattern: 'cache' } },
      }),
    ]);
    const s = summarize(book.sessions.get(S) as never);
    assert.equal(s.responses, 1);
    assert.deepEqual(s.usage, {
      input: 10,
      output: 40,
      cacheRead: 0,
      cacheWrite5m: 1000,
      cacheWrite1h: 0,
    });
    // Sonnet 4.5: $3 in, $15 out, $3.75 per 5-minute cache write, per million.
    assert.equal(s.costUsd, (10 * 3 + 40 * 15 + 1000 * 3.75) / 1e6);
    assert.equal(s.toolCalls, 2);
    assert.equal(s.runningTools, 2);
    assert.equal(s.prompts, 1);
    assert.equal(book.stats.duplicates, 1);
  });

  test('tool calls get duration and outcome; errors and compactions are counted', () => {
    const book = new AgentBook(DEFAULT_PRICES);
    feed(book, [
      claudeSummary('Cache layer'),
      claudePrompt(b(0), 'run the tests'),
      claudeAssistant(b(500), {
        messageId: 'm1',
        requestId: 'q1',
        usage: { input: 5, output: 9 },
        toolUse: { id: 't1', name: 'Bash', input: { command: 'npm test' } },
      }),
      claudeToolResult(b(2500), 't1', { isError: true, text: 'exit 1' }),
      claudeCompaction(b(3000), 150_000),
      claudeAssistant(b(4000), {
        messageId: 'm2',
        requestId: 'q2',
        usage: { input: 1, output: 2, cacheRead: 90_000 },
        stopReason: 'end_turn',
        text: 'Tests fail',
      }),
    ]);
    const d = detail(book.sessions.get(S) as never);
    assert.equal(d.summary.title, 'Cache layer');
    assert.equal(d.summary.project, 'weather-app');
    assert.equal(d.summary.gitBranch, 'main');
    assert.deepEqual(
      d.tools.map((t) => [t.name, t.summary, t.outcome, t.durationMs]),
      [['Bash', 'npm test', 'error', 2000]],
    );
    assert.equal(d.summary.toolErrors, 1);
    assert.equal(d.summary.compactions, 1);
    assert.equal(d.summary.state, 'idle');
    assert.equal(d.summary.contextTokens, 90_001);
    assert.equal(d.events[0]?.kind, 'compaction');
  });

  test('a question tool makes the session wait for the user until it is answered', () => {
    const book = new AgentBook(DEFAULT_PRICES);
    feed(book, [
      claudePrompt(b(0), 'plan it'),
      claudeAssistant(b(100), {
        messageId: 'm1',
        requestId: 'q1',
        usage: { output: 3 },
        toolUse: { id: 'ask', name: 'AskUserQuestion', input: { description: 'Which database?' } },
      }),
    ]);
    let s = summarize(book.sessions.get(S) as never);
    assert.equal(s.state, 'waiting');
    assert.equal(s.waitingFor?.reason, 'question');
    assert.equal(s.waitingFor?.message, 'Which database?');
    feed(book, [claudeToolResult(b(5000), 'ask', { text: 'SQLite' })]);
    s = summarize(book.sessions.get(S) as never);
    assert.equal(s.state, 'working');
    assert.equal(s.waitingFor, null);
  });

  test('subagents form a tree under the Task call that started them, each with its cost', () => {
    const book = new AgentBook(DEFAULT_PRICES);
    feed(book, [
      claudePrompt(b(0), 'review the code'),
      claudeAssistant(b(100), {
        messageId: 'm1',
        requestId: 'q1',
        usage: { input: 100, output: 10 },
        toolUse: {
          id: 'task1',
          name: 'Task',
          input: {
            description: 'Review auth',
            prompt: 'Review the auth module',
            subagent_type: 'code-reviewer',
          },
        },
      }),
    ]);
    feed(
      book,
      [
        claudePrompt(b(200, 'ag1'), 'Review the auth module'),
        claudeAssistant(b(300, 'ag1'), {
          messageId: 'm2',
          requestId: 'q2',
          model: 'claude-haiku-4-5-20251001',
          usage: { input: 1000, output: 100 },
        }),
      ],
      '/p/sub.jsonl',
      'ag1',
    );
    feed(book, [claudeToolResult(b(900), 'task1', { agentId: 'ag1' })]);
    const d = detail(book.sessions.get(S) as never);
    assert.equal(d.agents.length, 2);
    const [main, sub] = d.agents;
    assert.equal(main?.agentId, null);
    assert.equal(sub?.agentId, 'ag1');
    assert.equal(sub?.parentId, null);
    assert.equal(sub?.toolUseId, 'task1');
    assert.equal(sub?.type, 'code-reviewer');
    assert.equal(sub?.description, 'Review auth');
    assert.equal(sub?.costUsd, (1000 * 1 + 100 * 5) / 1e6);
    assert.equal(main?.costUsd, (100 * 3 + 10 * 15) / 1e6);
    assert.equal(d.summary.subagents, 1);
    assert.equal(d.summary.prompts, 1, "a subagent's prompt is not a user prompt");
    assert.deepEqual(
      d.models.map((m) => m.model),
      ['claude-haiku-4-5-20251001', 'claude-sonnet-4-5-20250929'],
    );
  });

  test('a resumed session copying earlier lines does not count them again', () => {
    const book = new AgentBook(DEFAULT_PRICES);
    const line = claudeAssistant(b(0), {
      messageId: 'm1',
      requestId: 'q1',
      usage: { input: 7, output: 7 },
    });
    feed(book, [line]);
    const copy = { ...line, sessionId: 'other-session' };
    const { events } = parseClaudeLine(copy, {
      sessionId: 'other-session',
      agentId: null,
      now: T0,
    });
    for (const e of events) book.apply(e, '/p/other.jsonl');
    assert.equal(summarize(book.sessions.get(S) as never).responses, 1);
    assert.equal(summarize(book.sessions.get('other-session') as never).responses, 0);
  });

  test('a rewritten transcript is taken back and read again without double counting', () => {
    const book = new AgentBook(DEFAULT_PRICES);
    const content = [
      claudePrompt(b(0), 'go'),
      claudeAssistant(b(10), {
        messageId: 'm1',
        requestId: 'q1',
        usage: { input: 5, output: 5 },
        toolUse: { id: 't', name: 'Bash', input: { command: 'ls' } },
      }),
      claudeToolResult(b(20), 't'),
    ];
    feed(book, content);
    const before = summarize(book.sessions.get(S) as never);
    assert.deepEqual(book.resetFile('/p/main.jsonl'), [S]);
    feed(book, content);
    const after = summarize(book.sessions.get(S) as never);
    assert.equal(after.responses, 1);
    assert.equal(after.toolCalls, 1);
    assert.equal(after.prompts, 1);
    assert.deepEqual(after.usage, before.usage);
    assert.equal(after.costUsd, before.costUsd);
  });

  test('bad values warn and unknown line types are reported, never thrown', () => {
    const book = new AgentBook(DEFAULT_PRICES);
    feed(book, [claudePrompt(b(0), 'hi')]);
    for (const bad of [
      null,
      42,
      'text',
      [],
      { type: 'assistant' },
      { type: 'assistant', message: { content: 'x' } },
    ]) {
      const { events } = parseClaudeLine(bad, { sessionId: S, agentId: null, now: T0 });
      for (const e of events) book.apply(e);
    }
    assert.equal(
      parseClaudeLine({ type: 'brand-new-kind' }, { sessionId: S, agentId: null, now: T0 })
        .unknownType,
      'brand-new-kind',
    );
    const s = summarize(book.sessions.get(S) as never);
    assert.equal(s.warnings, 5);
    assert.equal(s.responses, 0);
  });

  test('a model the table does not know is counted, not priced', () => {
    const book = new AgentBook(DEFAULT_PRICES);
    feed(book, [
      claudeAssistant(b(0), {
        messageId: 'm',
        requestId: 'q',
        model: 'mystery-1',
        usage: { input: 9, output: 9 },
      }),
    ]);
    const s = summarize(book.sessions.get(S) as never);
    assert.equal(s.unpricedResponses, 1);
    assert.equal(s.costUsd, 0);
    assert.equal(s.usage.output, 9);
  });

  test('a vendor cost (OTel cost_usd) replaces the table price for the same response', () => {
    const book = new AgentBook(DEFAULT_PRICES);
    feed(book, [
      claudeAssistant(b(0), {
        messageId: 'm',
        requestId: 'q',
        usage: { input: 1000, output: 1000 },
      }),
    ]);
    book.apply({
      agent: 'claude',
      sessionId: S,
      agentId: null,
      at: T0 + 5,
      source: 'otel',
      type: 'response',
      key: 'm:q',
      model: 'claude-sonnet-4-5-20250929',
      usage: { input: 1000, output: 1000, cacheRead: 0, cacheWrite5m: 0, cacheWrite1h: 0 },
      costUsd: 0.5,
      stopReason: null,
    });
    const s = summarize(book.sessions.get(S) as never);
    assert.equal(s.responses, 1);
    assert.equal(s.costUsd, 0.5);
  });
});

describe('AgentBook with Codex rollouts', () => {
  test('token counts, tools and turns from a rollout file', () => {
    const id = '019a0000-1111-7222-8333-444455556666';
    const parser = new CodexRolloutParser('fallback');
    const book = new AgentBook(DEFAULT_PRICES);
    const call = codexLine(T0 + 300, 'response_item', {
      type: 'function_call',
      name: 'shell',
      arguments: JSON.stringify({ command: ['bash', '-lc', 'cargo test'] }),
      call_id: 'call_1',
    });
    const values = [
      codexSessionMeta(T0, id, '/home/dev/rusty'),
      codexTurnContext(T0 + 1, 'gpt-5-codex', '/home/dev/rusty'),
      codexLine(T0 + 2, 'event_msg', {
        type: 'user_message',
        message: 'fix the build',
        kind: 'plain',
      }),
      call,
      codexLine(T0 + 900, 'response_item', {
        type: 'function_call_output',
        call_id: 'call_1',
        output: JSON.stringify({
          output: 'error[E0308]',
          metadata: { exit_code: 101, duration_seconds: 0.6 },
        }),
      }),
      codexTokenCount(
        T0 + 1000,
        { input: 5000, cached: 4000, output: 300 },
        { input: 5000, cached: 4000, output: 300 },
      ),
      codexTokenCount(
        T0 + 1001,
        { input: 5000, cached: 4000, output: 300 },
        { input: 5000, cached: 4000, output: 300 },
      ),
      codexTokenCount(
        T0 + 2000,
        { input: 11000, cached: 9000, output: 500 },
        { input: 6000, cached: 5000, output: 200 },
      ),
      codexLine(T0 + 2100, 'event_msg', { type: 'task_complete', last_agent_message: 'done' }),
      codexLine(T0 + 2200, 'event_msg', { type: 'some_future_event' }),
    ];
    const unknown: string[] = [];
    for (const v of values) {
      const r = parser.parse(v, T0);
      if (r.unknownType) unknown.push(r.unknownType);
      for (const e of r.events) book.apply(e, '/c/rollout.jsonl');
    }
    assert.deepEqual(unknown, ['event:some_future_event']);
    const d = detail(book.sessions.get(id) as never);
    assert.equal(d.summary.kind, 'codex');
    assert.equal(d.summary.project, 'rusty');
    assert.equal(d.summary.gitBranch, 'feature/x');
    assert.equal(d.summary.model, 'gpt-5-codex');
    assert.equal(d.summary.responses, 2);
    assert.deepEqual(d.summary.usage, {
      input: 2000,
      output: 500,
      cacheRead: 9000,
      cacheWrite5m: 0,
      cacheWrite1h: 0,
    });
    assert.equal(d.summary.costUsd, (2000 * 1.25 + 500 * 10 + 9000 * 0.125) / 1e6);
    assert.equal(d.summary.contextWindow, 272000);
    assert.equal(d.summary.contextTokens, 6200);
    assert.equal(d.summary.state, 'idle');
    assert.deepEqual(
      d.tools.map((t) => [t.name, t.summary, t.outcome]),
      [['shell', 'bash -lc cargo test', 'error']],
    );
  });
});

describe('prices', () => {
  test('longest prefix wins; suffixes and vendor prefixes do not matter', () => {
    assert.equal(priceOf(DEFAULT_PRICES, 'claude-opus-4-5-20251101')?.input, 5);
    assert.equal(priceOf(DEFAULT_PRICES, 'claude-opus-4-1-20250805')?.input, 15);
    assert.equal(priceOf(DEFAULT_PRICES, 'claude-sonnet-4-5[1m]')?.input, 3);
    assert.equal(priceOf(DEFAULT_PRICES, 'anthropic/claude-haiku-4-5')?.output, 5);
    assert.equal(priceOf(DEFAULT_PRICES, 'gpt-5-mini')?.input, 0.25);
    assert.equal(priceOf(DEFAULT_PRICES, 'llama-3'), null);
  });

  test('a price file overrides and extends the shipped table, and is validated', () => {
    const t = mergePrices(DEFAULT_PRICES, {
      version: 'team-1',
      models: {
        'llama-3': { input: 0.1, output: 0.2 },
        'gpt-5': { input: 1, output: 8, cacheRead: 0.1 },
      },
    });
    assert.equal(t.version, `${DEFAULT_PRICES.version}+team-1`);
    assert.deepEqual(priceOf(t, 'llama-3-70b'), {
      input: 0.1,
      output: 0.2,
      cacheRead: 0.1,
      cacheWrite5m: 0.1,
      cacheWrite1h: 0.1,
    });
    assert.equal(priceOf(t, 'gpt-5-codex')?.input, 1);
    assert.throws(() => mergePrices(DEFAULT_PRICES, { models: { x: { input: -1, output: 0 } } }));
  });
});
