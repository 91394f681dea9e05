import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  claudeAssistant,
  claudePrompt,
  claudeToolResult,
} from '../../../test/helpers/agent-transcripts.ts';
import { AgentBook } from './book.ts';
import { parseClaudeLine } from './claude.ts';
import {
  installHooks,
  isLivestreamHook,
  lineDiff,
  livestreamHook,
  uninstallHooks,
} from './hook-settings.ts';
import { type HookPayload, hookEvents, hookPayloadSchema } from './hooks.ts';
import { DEFAULT_PRICES } from './prices.ts';
import { summarize } from './view.ts';

const S = 'b0b0b0b0-0000-4000-8000-000000000002';
const T0 = Date.parse('2026-01-10T10:00:00Z');

function hook(book: AgentBook, payload: Record<string, unknown>, at: number): boolean {
  const p = hookPayloadSchema.parse({
    session_id: S,
    transcript_path: '/t.jsonl',
    cwd: '/home/dev/app',
    ...payload,
  });
  const { events, known } = hookEvents(p as HookPayload, at);
  for (const e of events) book.apply(e);
  return known;
}
function line(book: AgentBook, value: object): void {
  for (const e of parseClaudeLine(value, { sessionId: S, agentId: null, now: T0 }).events)
    book.apply(e, '/t.jsonl');
}
const b = (dt: number) => ({ sessionId: S, at: T0 + dt, cwd: '/home/dev/app' });

describe('hooks joined with the transcript', () => {
  test('a prompt and a tool call reported by both count once; the hook is first', () => {
    const book = new AgentBook(DEFAULT_PRICES);
    hook(book, { hook_event_name: 'UserPromptSubmit', prompt: 'deploy it' }, T0);
    hook(
      book,
      {
        hook_event_name: 'PreToolUse',
        tool_name: 'Bash',
        tool_input: { command: 'make deploy' },
        tool_use_id: 'tu1',
      },
      T0 + 50,
    );
    let s = summarize(book.sessions.get(S) as never);
    assert.equal(s.toolCalls, 1);
    assert.equal(s.runningTools, 1);
    assert.equal(s.state, 'working');
    // The transcript flushes later with the same facts.
    line(book, claudePrompt(b(0), 'deploy it'));
    line(
      book,
      claudeAssistant(b(40), {
        messageId: 'm',
        requestId: 'r',
        usage: { input: 5, output: 5 },
        toolUse: { id: 'tu1', name: 'Bash', input: { command: 'make deploy' } },
      }),
    );
    hook(book, { hook_event_name: 'PostToolUse', tool_name: 'Bash', tool_use_id: 'tu1' }, T0 + 900);
    line(book, claudeToolResult(b(900), 'tu1'));
    s = summarize(book.sessions.get(S) as never);
    assert.equal(s.prompts, 1);
    assert.equal(s.toolCalls, 1);
    assert.equal(s.runningTools, 0);
    assert.equal(s.responses, 1);
  });

  test('a permission prompt is waiting, distinct from idle; answering resumes work', () => {
    const book = new AgentBook(DEFAULT_PRICES);
    hook(
      book,
      {
        hook_event_name: 'PreToolUse',
        tool_name: 'Bash',
        tool_input: { command: 'rm -rf build' },
        tool_use_id: 'tu2',
      },
      T0,
    );
    hook(
      book,
      {
        hook_event_name: 'Notification',
        message: 'Claude needs your permission to use Bash',
        notification_type: 'permission_prompt',
      },
      T0 + 10,
    );
    let s = summarize(book.sessions.get(S) as never);
    assert.equal(s.state, 'waiting');
    assert.deepEqual(s.waitingFor, {
      reason: 'permission',
      message: 'Claude needs your permission to use Bash',
      since: T0 + 10,
    });
    // A transcript line written before the prompt does not clear it.
    line(
      book,
      claudeAssistant(b(5), {
        messageId: 'm',
        requestId: 'r',
        usage: { output: 1 },
        toolUse: { id: 'tu2', name: 'Bash', input: { command: 'rm -rf build' } },
      }),
    );
    assert.equal(summarize(book.sessions.get(S) as never).state, 'waiting');
    hook(
      book,
      { hook_event_name: 'PostToolUse', tool_name: 'Bash', tool_use_id: 'tu2' },
      T0 + 4000,
    );
    assert.equal(summarize(book.sessions.get(S) as never).state, 'working');
    hook(book, { hook_event_name: 'Stop' }, T0 + 5000);
    s = summarize(book.sessions.get(S) as never);
    assert.equal(s.state, 'idle');
    assert.equal(s.waitingFor, null);
    hook(book, { hook_event_name: 'SessionEnd', reason: 'exit' }, T0 + 6000);
    assert.equal(summarize(book.sessions.get(S) as never).state, 'ended');
  });

  test('hooks with missing fields are refused; unknown events are known to be unknown', () => {
    assert.equal(hookPayloadSchema.safeParse({ hook_event_name: 'Stop' }).success, false);
    assert.equal(hookPayloadSchema.safeParse({ session_id: S }).success, false);
    assert.equal(hookPayloadSchema.safeParse('nope').success, false);
    const book = new AgentBook(DEFAULT_PRICES);
    assert.equal(hook(book, { hook_event_name: 'SomethingNew', extra: 1 }, T0), false);
    // A tool hook without tool_use_id cannot be joined: it is not counted.
    hook(book, { hook_event_name: 'PreToolUse', tool_name: 'Read' }, T0);
    assert.equal(book.sessions.get(S)?.tools.size ?? 0, 0);
  });
});

describe('hook settings', () => {
  const url = 'http://127.0.0.1:8080/api/hooks';
  const theirs = {
    model: 'opus',
    hooks: {
      PostToolUse: [
        { matcher: 'Edit|Write', hooks: [{ type: 'command', command: 'prettier --write' }] },
      ],
    },
  };

  test('install merges, is idempotent, and uninstall gives back exactly what was there', () => {
    const once = installHooks(theirs, livestreamHook(url, null));
    assert.deepEqual(installHooks(once, livestreamHook(url, null)), once);
    const post = (once.hooks as Record<string, unknown[]>).PostToolUse;
    assert.equal(post?.length, 2);
    assert.deepEqual(post?.[0], theirs.hooks.PostToolUse[0]);
    assert.deepEqual(post?.[1], { matcher: '*', hooks: [{ type: 'http', url, timeout: 2 }] });
    assert.deepEqual((once.hooks as Record<string, unknown[]>).Stop, [
      { hooks: [{ type: 'http', url, timeout: 2 }] },
    ]);
    assert.equal(once.model, 'opus');
    assert.deepEqual(uninstallHooks(once), theirs);
    assert.deepEqual(uninstallHooks(installHooks({}, livestreamHook(url, null))), {});
  });

  test('a token goes in as an environment reference, never as the secret', () => {
    const h = livestreamHook(url, 'LIVESTREAM_TOKEN');
    assert.deepEqual(h.headers, { Authorization: 'Bearer $LIVESTREAM_TOKEN' });
    assert.deepEqual(h.allowedEnvVars, ['LIVESTREAM_TOKEN']);
    assert.ok(isLivestreamHook(h));
    assert.ok(!isLivestreamHook({ type: 'http', url: 'http://x/other' }));
    assert.ok(!isLivestreamHook({ type: 'command', command: 'curl http://x/api/hooks' }));
  });

  test('our handler is recognised by its URL path, as the URL class reads it', () => {
    const urls = [
      'http://127.0.0.1:4800/api/hooks',
      'http://127.0.0.1:4800/api/hooks/',
      'https://box.lan/livestream/api/hooks?x=1',
      'http://[::1]:4800/api/hooks#frag',
      'HTTP://host/api/hooks',
      ' http://host/api/hooks ',
      'http://user:pw@host/api/hooks',
      'http://host/api/hooks/extra',
      'http://host/api/hooksy',
      'http://host?next=/api/hooks',
      'http://host#/api/hooks',
      'http://host',
      '/api/hooks',
      'api/hooks',
      'not a url',
      '',
    ];
    for (const u of urls) {
      let expected: boolean;
      try {
        expected = new URL(u).pathname.replace(/\/+$/, '').endsWith('/api/hooks');
      } catch {
        expected = false;
      }
      assert.equal(isLivestreamHook({ type: 'http', url: u }), expected, u);
    }
  });

  test('a settings file of the wrong shape is refused', () => {
    assert.throws(() => installHooks([], livestreamHook(url, null)));
    assert.throws(() => installHooks({ hooks: 'x' }, livestreamHook(url, null)));
    assert.throws(() => installHooks({ hooks: { Stop: {} } }, livestreamHook(url, null)));
  });

  test('lineDiff marks added and removed lines', () => {
    assert.equal(lineDiff('a\nb\nc', 'a\nx\nc\nd'), '  a\n+ x\n- b\n  c\n+ d');
  });
});
