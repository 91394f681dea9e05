import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import { createApp } from '../../src/app.ts';
import { frameAt } from '../../src/core/replay/frame.ts';
import { runDemo } from '../../src/demo/index.ts';
import type { SessionMetrics } from '../../src/shared/metrics.ts';
import type { SessionStatus, TimelineEntry } from '../../src/shared/model.ts';
import type { HistorySummary, ReplayFrame, SessionHistory } from '../../src/shared/replay.ts';
import { testConfig } from '../helpers/app-config.ts';

const logger = pino({ level: 'silent' });
const temps: string[] = [];
after(async () => {
  for (const dir of temps) await rm(dir, { recursive: true, force: true });
});

async function get<T>(url: string): Promise<T> {
  const res = await fetch(url);
  assert.equal(res.status, 200, await res.clone().text());
  return (await res.json()) as T;
}

describe('replay of a real build', () => {
  it('rebuilds phase, progress, tokens, tests and the log at any moment, from the API and the history alike', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ls-replay-'));
    temps.push(dir);
    const root = join(dir, 'root');
    await mkdir(root);
    const app = await createApp({
      config: testConfig([root], join(dir, 'history.db')),
      logger,
    });
    try {
      await runDemo({ root, rate: 40, once: true, tag: 'replay' });
      const id = 'weather-app-replay';
      const base = `${app.url}/api`;
      // Wait until the final state (completed, both test iterations) is in.
      for (;;) {
        const s = await get<SessionStatus>(`${base}/status/${id}`).catch(() => null);
        const m = await get<SessionMetrics>(`${base}/metrics/${id}`).catch(() => null);
        if (s?.state === 'completed' && (m?.test_iterations.data?.length ?? 0) === 2) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const { timeline } = await get<{ timeline: TimelineEntry[] }>(`${base}/phases/${id}`);
      const test = timeline.find((t) => t.phase === 'Test');
      const screenshot = timeline.find((t) => t.phase === 'Screenshot');
      assert.ok(test && screenshot);

      const inTest = await get<ReplayFrame>(`${base}/status/${id}?at=${test.startedAt}`);
      assert.equal(inTest.status.currentPhase, 'Test');
      assert.equal(inTest.status.state, 'active');
      assert.equal(inTest.status.progressPercent, 75);
      assert.equal(inTest.timeline.at(-1)?.endedAt, null);
      assert.ok(inTest.timeline.every((t) => t.startedAt <= test.startedAt));
      assert.ok(inTest.log.every((l) => l.at <= test.startedAt));
      assert.ok(inTest.tests.length <= 1);

      const early = await get<ReplayFrame>(`${base}/status/${id}?at=${timeline[1]?.startedAt}`);
      assert.equal(early.status.currentPhase, 'Scout');
      assert.equal(early.tests.length, 0);
      assert.ok(early.tokens.total < inTest.tokens.total, 'tokens so far grow');

      const end = await get<ReplayFrame>(`${base}/status/${id}?at=${Date.now()}`);
      assert.equal(end.status.state, 'completed');
      assert.equal(end.tests.length, 2);
      const metrics = await get<SessionMetrics>(`${base}/metrics/${id}`);
      assert.equal(end.tokens.total, metrics.token_usage.data?.total);
      assert.ok(end.alerts.some((a) => a.kind === 'completed'));

      // The page rebuilds the same frames from the history it loads once.
      const history = await get<SessionHistory>(`${base}/history/${id}`);
      assert.deepEqual(frameAt(history, test.startedAt), inTest);
      assert.deepEqual(frameAt(history, screenshot.startedAt - 1).status.currentPhase, 'Test');

      // The slider's summary: the whole span, every stored change counted, the end phase last.
      const summary = await get<HistorySummary>(`${base}/history/${id}/summary?slices=50`);
      assert.equal(summary.slices.length, 50);
      assert.equal(summary.transitions, history.transitions.length);
      assert.equal(
        summary.slices.reduce((n, s) => n + s.changes, 0),
        history.transitions.length,
      );
      assert.ok(summary.start <= (timeline[0]?.startedAt ?? 0));
      assert.equal(summary.slices.at(-1)?.phase, history.transitions.at(-1)?.phase);
      assert.equal(summary.slices.at(-1)?.state, 'completed');
      assert.equal((await fetch(`${base}/history/${id}/summary?slices=0`)).status, 400);
      assert.equal((await fetch(`${base}/history/nope/summary`)).status, 404);

      // A smaller frame keeps the newest rows and lines.
      const small = await get<ReplayFrame>(`${base}/status/${id}?at=${Date.now()}&rows=2&lines=1`);
      assert.deepEqual(small.timeline, end.timeline.slice(-2));
      assert.deepEqual(small.log, end.log.slice(-1));
      assert.equal(small.timelineLength, end.timelineLength);
      assert.equal((await fetch(`${base}/status/${id}?at=1&rows=101`)).status, 400);

      const bad = await fetch(`${base}/status/${id}?at=soon`);
      assert.equal(bad.status, 400);
      assert.equal((await fetch(`${base}/history/nope`)).status, 404);
    } finally {
      await app.stop();
    }
  });
});
