import assert from 'node:assert/strict';
import { appendFile, mkdir, mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import pino from 'pino';
import { engines, pushPhase } from '../../test/helpers/engines.ts';
import type { SessionMetrics } from '../shared/metrics.ts';
import { topic } from '../shared/topics.ts';
import { RootWatcher } from '../sources/watcher.ts';

const logger = pino({ level: 'silent' });
const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'metrics-engine-'));
  dirs.push(dir);
  return dir;
}

const world = engines;

function line(at: string, input: number, output: number, extra: Record<string, unknown> = {}) {
  return `${JSON.stringify({
    timestamp: at,
    prompt: 'p',
    response: 'r',
    metadata: { input_tokens: input, output_tokens: output, model: 'claude-x', ...extra },
  })}\n`;
}

const push = pushPhase;

function tokens(m: SessionMetrics | null) {
  assert.ok(m?.token_usage.data, `token usage: ${m?.token_usage.reason}`);
  return m.token_usage.data;
}

async function sessionLog(root: string, id: string): Promise<string> {
  const dir = join(root, 'logs', `ralph_${id}`);
  await mkdir(dir, { recursive: true });
  return join(dir, 'session.jsonl');
}

describe('MetricsEngine', () => {
  test('tokens from session.jsonl: exact totals, budget level, phases, bad lines as warnings', async () => {
    const root = await tempDir();
    const w = await world(root, { tokenBudget: 1000 });
    try {
      const key = push(w, 'weather-app', 'Builder', 1_000);
      const before = w.metrics.get(key);
      assert.equal(before?.token_usage.data, null);
      assert.match(
        before?.token_usage.reason ?? '',
        /no session log found at logs\/ralph_weather-app\/session\.jsonl/,
      );

      const path = await sessionLog(root, 'weather-app');
      await writeFile(
        path,
        line('2025-01-13T00:30:00Z', 100, 20, { context_percentage: 12.5 }) +
          '{"timestamp":"2025-01-13T00:31:00Z","metadata":{"input_tok\n' +
          line('2025-01-13T00:32:00Z', 200, 30) +
          line('2025-01-13T00:33:00Z', 50, 0).slice(0, 20),
      );
      await w.tail(path);
      let usage = tokens(w.metrics.get(key));
      assert.equal(usage.source, 'session_log');
      assert.deepEqual([usage.input, usage.output, usage.total], [300, 50, 350]);
      assert.equal(usage.percentOfBudget, 35);
      assert.equal(usage.level, 'ok');
      assert.equal(usage.model, 'claude-x');
      assert.equal(usage.contextPercent, 12.5);
      assert.deepEqual(usage.byPhase, { Builder: { input: 300, output: 50 } });
      assert.deepEqual(
        usage.series.map((p) => [p.cumulativeInput, p.cumulativeOutput]),
        [
          [100, 20],
          [300, 50],
        ],
      );
      const warnings = w.metrics.get(key)?.warnings ?? [];
      assert.equal(warnings.length, 1);
      assert.equal(warnings[0]?.code, 'invalid_lines');

      // The partial last line completes; a new phase starts later.
      push(w, 'weather-app', 'Test', Date.parse('2025-01-13T00:40:00Z'));
      await appendFile(path, `${line('2025-01-13T00:33:00Z', 50, 0).slice(20)}`);
      await appendFile(path, line('2025-01-13T00:41:00Z', 150, 100));
      await w.tail(path);
      usage = tokens(w.metrics.get(key));
      assert.deepEqual([usage.input, usage.output, usage.total], [500, 150, 650]);
      assert.equal(usage.level, 'warning');
      assert.equal(usage.byPhase.Test?.input, 150);
      await appendFile(path, line('2025-01-13T00:42:00Z', 100, 50));
      await w.tail(path);
      assert.equal(tokens(w.metrics.get(key)).level, 'critical');
      const published = w.hub.get(topic('metrics', key))?.data as SessionMetrics;
      assert.equal(published.token_usage.data?.total, 800);
    } finally {
      await w.close();
    }
  });

  test('producer running totals only: per-line figures are their increase', async () => {
    const root = await tempDir();
    const w = await world(root);
    try {
      const key = push(w, 'totals', 'Scout', 1);
      const path = await sessionLog(root, 'totals');
      const meta = (i: number, o: number) =>
        `${JSON.stringify({ timestamp: `2025-01-13T00:3${i % 10}:00Z`, metadata: { total_input: i, total_output: o } })}\n`;
      await writeFile(path, meta(1000, 100) + meta(1500, 180) + meta(2500, 200));
      await w.tail(path);
      const usage = tokens(w.metrics.get(key));
      assert.deepEqual([usage.input, usage.output], [2500, 200]);
      assert.deepEqual(
        usage.series.map((p) => p.input),
        [1000, 500, 1000],
      );
    } finally {
      await w.close();
    }
  });

  test('a restart resumes from saved offsets: no double counting; truncation re-read is de-duplicated', async () => {
    const root = await tempDir();
    const path = await sessionLog(root, 'resume');
    const first = await world(root);
    const key = push(first, 'resume', 'Builder', 1);
    await writeFile(
      path,
      line('2025-01-13T01:00:00Z', 10, 1) + line('2025-01-13T01:01:00Z', 20, 2),
    );
    await first.tail(path);
    assert.equal(tokens(first.metrics.get(key)).total, 33);
    const offset = await first.store.getOffset(path);
    assert.equal(offset?.offset, Buffer.byteLength(line('2025-01-13T01:00:00Z', 10, 1)) * 2);
    await first.close();

    const second = await world(root);
    try {
      assert.equal(tokens(second.metrics.get(key)).total, 33, 'restored from the store');
      await appendFile(path, line('2025-01-13T01:02:00Z', 30, 3));
      await second.tail(path);
      assert.equal(tokens(second.metrics.get(key)).total, 66);
      assert.equal((await second.store.tokenPoints(key)).length, 3);
      // The file is truncated, then rewritten with the same lines and one more:
      // read again from the start, nothing is counted twice.
      await truncate(path, 0);
      await second.tail(path);
      await writeFile(
        path,
        line('2025-01-13T01:00:00Z', 10, 1) +
          line('2025-01-13T01:01:00Z', 20, 2) +
          line('2025-01-13T01:02:00Z', 30, 3) +
          line('2025-01-13T01:03:00Z', 40, 4),
      );
      await second.tail(path);
      const usage = tokens(second.metrics.get(key));
      assert.equal(usage.total, 110);
      assert.equal((await second.store.tokenPoints(key)).length, 4);
    } finally {
      await second.close();
    }
  });

  test('data for a session not known yet is held, unsaved, and attached when it appears', async () => {
    const root = await tempDir();
    const path = await sessionLog(root, 'later');
    await writeFile(path, line('2025-01-13T02:00:00Z', 7, 3));
    const eventsDir = join(root, 'logs', 'events', 'later');
    await mkdir(eventsDir, { recursive: true });
    await writeFile(
      join(eventsDir, 'events.jsonl'),
      `${JSON.stringify({ type: 'phase_change', session_id: 'later', timestamp: '2025-01-13T02:00:00Z', sequence: 1, data: { from: 'Scout', to: 'Architect' } })}\n`,
    );
    const w = await world(root);
    try {
      await w.tail(path);
      await w.tail(join(eventsDir, 'events.jsonl'));
      const agent = w.metrics.agentUpdate(
        { session_id: 'later', agent_id: 'a1', status: 'running' },
        5,
      );
      assert.ok(agent.ok);
      assert.equal(agent.key, null);
      assert.equal(w.metrics.get('later'), null);
      assert.equal(await w.store.getOffset(path), null, 'no offset saved before the data is');

      const key = push(w, 'later', 'Architect', Date.parse('2025-01-13T01:59:00Z'));
      await waitFor(async () => (await w.store.getOffset(path)) !== null);
      const m = w.metrics.get(key);
      assert.equal(tokens(m).total, 10);
      assert.equal(m?.agent_performance.data?.[0]?.agentId, 'a1');
      assert.deepEqual(
        w.logs
          .tail(key, 10)
          .filter((l) => l.level === 'event')
          .map((l) => [l.kind, l.text]),
        [['phase_change', 'phase_change: Scout → Architect']],
      );
      assert.equal((await w.store.tokenPoints(key)).length, 1);
    } finally {
      await w.close();
    }
  });

  test('test iterations: one per N, updated in place; decisions de-duplicated and updated in place', async () => {
    const root = await tempDir();
    const project = join(root, 'weather');
    const cf = join(project, '.context-foundry');
    await mkdir(join(cf, 'feedback'), { recursive: true });
    await mkdir(join(cf, 'patterns'), { recursive: true });
    await writeFile(
      join(cf, 'current-phase.json'),
      JSON.stringify({
        session_id: 'weather',
        current_phase: 'Test',
        phase_number: '4/7',
        status: 'testing',
      }),
    );
    const w = await world(root);
    try {
      await w.phase(join(cf, 'current-phase.json'));
      const key = w.sessions.keyForProject(project);
      assert.ok(key);
      assert.match(
        w.metrics.get(key)?.test_iterations.reason ?? '',
        /no test results found at .*test-results-iteration-N\.md/,
      );

      await writeFile(
        join(cf, 'test-results-iteration-1.md'),
        '# Run 1\n===== 3 passed, 2 failed in 1.50s =====\n',
      );
      await writeFile(
        join(cf, 'test-results-iteration-2.md'),
        'Tests: 5 passed, 5 total\nTime: 2 s\n',
      );
      await w.project(join(cf, 'test-results-iteration-1.md'));
      await w.project(join(cf, 'test-results-iteration-2.md'));
      let iterations = w.metrics.get(key)?.test_iterations.data ?? [];
      assert.deepEqual(
        iterations.map((i) => [i.iteration, i.total, i.passed, i.failed, i.durationMs, i.source]),
        [
          [1, 5, 3, 2, 1500, '.context-foundry/test-results-iteration-1.md'],
          [2, 5, 5, 0, 2000, '.context-foundry/test-results-iteration-2.md'],
        ],
      );
      await writeFile(
        join(cf, 'test-results-iteration-1.md'),
        '# Run 1\n===== 4 passed, 1 failed in 1.50s =====\n',
      );
      await w.project(join(cf, 'test-results-iteration-1.md'));
      iterations = w.metrics.get(key)?.test_iterations.data ?? [];
      assert.equal(iterations.length, 2);
      assert.deepEqual([iterations[0]?.passed, iterations[0]?.failed], [4, 1]);

      const feedback = (solution: string) =>
        JSON.stringify({
          issues_found: [
            {
              id: 'issue-1',
              issue: 'CORS blocked',
              detected_in_phase: 'Test',
              solution_implemented: solution,
              severity: 'high',
            },
            {
              id: 'issue-1',
              issue: 'CORS blocked',
              detected_in_phase: 'Test',
              solution_implemented: solution,
            },
            { issue: 'Missing env var', applies_to_phases: ['Builder', 'Deploy'] },
            42,
            null,
          ],
          successful_patterns: [
            { pattern: 'Mock the weather API in tests' },
            'Keep components small',
          ],
          extra: true,
        });
      await writeFile(join(cf, 'feedback', 'build-feedback-2025.json'), feedback('added proxy'));
      await writeFile(
        join(cf, 'patterns', 'common-issues.json'),
        JSON.stringify({
          patterns: [
            { pattern_id: 'cors', issue: 'CORS', severity: 'medium', prevention: 'proxy' },
          ],
        }),
      );
      await w.project(join(cf, 'feedback', 'build-feedback-2025.json'));
      await w.project(join(cf, 'patterns', 'common-issues.json'));
      let decisions = w.metrics.get(key)?.decisions.data ?? [];
      assert.equal(decisions.length, 5);
      const issue = decisions.find((d) => d.id === 'issue:issue-1');
      assert.deepEqual(
        [issue?.kind, issue?.phase, issue?.solution],
        ['issue', 'Test', 'added proxy'],
      );
      assert.equal(decisions.find((d) => d.title === 'Missing env var')?.phase, 'Builder, Deploy');
      assert.equal(decisions.find((d) => d.id === 'common_issue:cors')?.kind, 'common_issue');
      assert.ok(w.metrics.get(key)?.warnings.some((x) => x.code === 'odd_entries'));

      await writeFile(
        join(cf, 'feedback', 'build-feedback-2025.json'),
        feedback('same-origin API route'),
      );
      await w.project(join(cf, 'feedback', 'build-feedback-2025.json'));
      decisions = w.metrics.get(key)?.decisions.data ?? [];
      assert.equal(decisions.length, 5, 'updated in place, not re-inserted');
      assert.equal(
        decisions.find((d) => d.id === 'issue:issue-1')?.solution,
        'same-origin API route',
      );
      assert.equal((await w.store.decisions(key)).length, 5);

      const analytics = await w.metrics.analytics();
      assert.equal(analytics.avgTestIterationsToGreen, 2);
      assert.deepEqual(w.hub.get('analytics')?.data, analytics);
    } finally {
      await w.close();
    }
  });

  test('agents: a live tree with start and end; tokens_used feeds token usage without a session log', async () => {
    const root = await tempDir();
    let now = 10_000;
    const w = await world(root, { now: () => now });
    try {
      const key = push(w, 'agents', 'Builder', 1);
      const missing = w.metrics.agentUpdate({ agent_id: 'x' }, now);
      assert.deepEqual(
        missing.ok ? null : missing.message,
        'Invalid agent update: session_id is required.',
      );
      const bad = w.metrics.agentUpdate({ session_id: 'agents', agent_id: '' }, now);
      assert.match(bad.ok ? '' : bad.message, /agent_id/);

      w.metrics.agentUpdate(
        {
          session_id: 'agents',
          agent_id: 'lead',
          agent_type: 'orchestrator',
          status: 'running',
          tokens_used: 1000,
        },
        10_000,
      );
      w.metrics.agentUpdate(
        {
          session_id: 'agents',
          agent_id: 'b1',
          parent_agent_id: 'lead',
          status: 'running',
          phase: 'Builder',
          tokens_used: 500,
        },
        11_000,
      );
      w.metrics.agentUpdate(
        {
          session_id: 'agents',
          agent_id: 'b1',
          status: 'completed',
          tokens_used: 800,
          progress_percent: 100,
        },
        15_500,
      );
      now = 16_000;
      const m = w.metrics.get(key);
      const agents = m?.agent_performance.data ?? [];
      assert.deepEqual(
        agents.map((a) => [a.agentId, a.parentAgentId, a.status]),
        [
          ['lead', null, 'running'],
          ['b1', 'lead', 'completed'],
        ],
      );
      const b1 = agents[1];
      assert.deepEqual(
        [b1?.startedAt, b1?.endedAt, b1?.durationMs, b1?.tokensUsed],
        [11_000, 15_500, 4500, 800],
      );
      assert.equal(agents[0]?.durationMs, null);
      const usage = tokens(m);
      assert.equal(usage.source, 'agent_updates');
      assert.equal(usage.total, 1800);
      assert.deepEqual(usage.byPhase, { Builder: { input: 1800, output: 0 } });
      assert.equal((await w.store.agents(key)).length, 2);
    } finally {
      await w.close();
    }
  });

  test('broadcast and events.jsonl go into the session log; bad bodies are refused', async () => {
    const root = await tempDir();
    const w = await world(root);
    try {
      const key = push(w, 'ev', 'Test', 1);
      const ok = w.metrics.broadcast(
        'ev',
        { type: 'log_line', data: { line: 'pytest -q\n3 passed' } },
        5,
      );
      assert.ok(ok.ok);
      assert.ok(!w.metrics.broadcast('ev', [1, 2], 5).ok);
      const big = w.metrics.broadcast('ev', { type: 'x', data: 'y'.repeat(70_000) }, 5);
      assert.equal(big.ok ? '' : big.error, 'too_large');
      const dir = join(root, 'logs', 'events', 'ev');
      await mkdir(dir, { recursive: true });
      const events = join(dir, 'events.jsonl');
      await writeFile(
        events,
        [
          {
            type: 'iteration_start',
            session_id: 'ev',
            timestamp: '2025-01-13T00:35:00Z',
            sequence: 1,
            data: { iteration: 2 },
          },
          { type: 'error', session_id: 'ev', sequence: 2, data: { message: 'npm test failed' } },
        ]
          .map((e) => JSON.stringify(e))
          .join('\n')
          .concat('\nnot json\n'),
      );
      await w.tail(events);
      const lines = w.logs.tail(key, 20).filter((l) => l.level === 'event');
      assert.deepEqual(
        lines.map((l) => [l.kind, l.text]),
        [
          ['log_line', 'log_line: pytest -q 3 passed'],
          ['iteration_start', 'iteration_start: iteration 2'],
          ['error', 'error: npm test failed'],
        ],
      );
      assert.equal(lines[1]?.at, Date.parse('2025-01-13T00:35:00Z'));
    } finally {
      await w.close();
    }
  });

  test('analytics: phase durations from transitions, tokens per phase, failure rate', async () => {
    const root = await tempDir();
    const w = await world(root);
    try {
      for (const [id, base] of [
        ['s1', 0],
        ['s2', 100_000],
      ] as const) {
        push(w, id, 'Scout', base + 1_000);
        push(w, id, 'Builder', base + 4_000);
        w.sessions.ingestPush(
          {
            session_id: id,
            current_phase: 'Deploy',
            phase_number: '7/7',
            status: id === 's1' ? 'failed' : 'completed',
          },
          base + (id === 's1' ? 10_000 : 14_000),
        );
      }
      const path = await sessionLog(root, 's1');
      await writeFile(
        path,
        line(new Date(2_000).toISOString(), 100, 10) + line(new Date(5_000).toISOString(), 300, 30),
      );
      await w.tail(path);
      const a = await w.metrics.analytics();
      assert.equal(a.sessions, 2);
      assert.deepEqual(a.avgPhaseDurationMs, { Builder: 8_000, Scout: 3_000 });
      assert.deepEqual(a.tokensPerPhase, { Builder: 330, Scout: 110 });
      assert.equal(a.failureRate, 0.5);
      assert.equal(a.avgTestIterationsToGreen, null);
    } finally {
      await w.close();
    }
  });

  test('end to end with the root watcher: files written on disk reach the metrics topic', async () => {
    const root = await tempDir();
    const w = await world(root);
    const watcher = new RootWatcher({
      roots: [root],
      handlers: w.handlers,
      logger,
    });
    try {
      await watcher.start();
      const cf = join(root, 'live', '.context-foundry');
      await mkdir(cf, { recursive: true });
      const reached = new Promise<SessionMetrics>((resolveMetrics) => {
        w.hub.fanout.subscribeAll(() => {
          const m = w.hub.get(topic('metrics', 'live'))?.data as SessionMetrics | undefined;
          if (m?.token_usage.data?.total === 15 && m.test_iterations.data?.length === 1)
            resolveMetrics(m);
        });
      });
      await writeFile(
        join(cf, 'current-phase.json'),
        JSON.stringify({
          session_id: 'live',
          current_phase: 'Test',
          phase_number: '5/7',
          status: 'testing',
        }),
      );
      await writeFile(join(cf, 'test-results-iteration-1.md'), '2 passed in 0.1s\n');
      const path = await sessionLog(root, 'live');
      await writeFile(path, line('2025-01-13T03:00:00Z', 10, 5));
      const m = await reached;
      assert.deepEqual(
        m.test_iterations.data?.map((i) => [i.passed, i.failed]),
        [[2, 0]],
      );
    } finally {
      await watcher.stop();
      await w.close();
    }
  });
});

async function waitFor(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (await check()) return;
    await new Promise((r) => setImmediate(r));
  }
  assert.fail('condition never held');
}
