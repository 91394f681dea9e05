import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { TailOffset } from '../store/types.ts';
import {
  type DecisionFile,
  type JsonlBatch,
  JsonlLogHandler,
  jsonlFileOf,
  type MetricsFileProblem,
  type MetricsFileSink,
  ProjectMetricsHandler,
  type TestResultsFile,
} from './metrics-files.ts';

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

/** Records what the handlers deliver; `next(kind)` resolves on the next delivery of that kind. */
class Recorder implements MetricsFileSink {
  readonly batches: JsonlBatch[] = [];
  readonly tests: TestResultsFile[] = [];
  readonly decisions: DecisionFile[] = [];
  readonly problems: MetricsFileProblem[] = [];
  #waiters: { kind: string; resolve: () => void }[] = [];

  next(kind: 'problem' | 'tests' | 'decisions'): Promise<void> {
    return new Promise((resolve) => this.#waiters.push({ kind, resolve }));
  }
  #emit(kind: string) {
    const ready = this.#waiters.filter((w) => w.kind === kind);
    this.#waiters = this.#waiters.filter((w) => w.kind !== kind);
    for (const w of ready) w.resolve();
  }
  jsonlBatch(batch: JsonlBatch) {
    this.batches.push(batch);
    return true;
  }
  jsonlReset() {}
  testResults(file: TestResultsFile) {
    this.tests.push(file);
    this.#emit('tests');
  }
  decisionFile(file: DecisionFile) {
    this.decisions.push(file);
    this.#emit('decisions');
  }
  problem(problem: MetricsFileProblem) {
    this.problems.push(problem);
    this.#emit('problem');
  }
}

async function project(): Promise<{ root: string; cf: string }> {
  const root = await mkdtemp(join(tmpdir(), 'metrics-files-'));
  dirs.push(root);
  const cf = join(root, 'app', '.context-foundry');
  await mkdir(join(cf, 'feedback'), { recursive: true });
  return { root, cf };
}

test('paths: which files the handlers take', () => {
  assert.deepEqual(jsonlFileOf('logs/ralph_weather-app/session.jsonl'), {
    kind: 'session_log',
    sessionId: 'weather-app',
  });
  assert.deepEqual(jsonlFileOf('/x/logs/events/s1/events.jsonl'), {
    kind: 'events',
    sessionId: 's1',
  });
  assert.equal(jsonlFileOf('logs/ralph_x/other.jsonl'), null);
  const handler = new ProjectMetricsHandler(new Recorder());
  assert.ok(handler.match('app/.context-foundry/test-results-iteration-3.md'));
  assert.ok(handler.match('.context-foundry/feedback/build-feedback-1.json'));
  assert.ok(handler.match('.context-foundry/patterns/common-issues.json'));
  assert.ok(!handler.match('.context-foundry/current-phase.json'));
  assert.ok(!handler.match('docs/test-results-iteration-1.md'));
});

test('a half-written feedback file fixed by the next write never raises a problem', async () => {
  const { root, cf } = await project();
  const sink = new Recorder();
  const handler = new ProjectMetricsHandler(sink, { confirmMs: 5_000 });
  const path = join(cf, 'feedback', 'build-feedback-1.json');
  await writeFile(path, '{"issues_found": [{"id": "a", "iss');
  const confirming = handler.handle({ kind: 'change', path, root });
  await confirming;
  const delivered = sink.next('decisions');
  await writeFile(path, '{"issues_found": [{"id": "a", "issue": "x"}]}');
  await handler.handle({ kind: 'change', path, root });
  await delivered;
  assert.deepEqual(sink.problems, []);
  assert.equal(sink.decisions[0]?.projectDir, join(root, 'app'));
  assert.equal(sink.decisions[0]?.source, '.context-foundry/feedback/build-feedback-1.json');
  assert.deepEqual(
    sink.decisions[0]?.parsed.decisions.map((d) => d.id),
    ['issue:a'],
  );
  handler.close();
});

test('a file that stays bad is reported once confirmed', async () => {
  const { root, cf } = await project();
  const sink = new Recorder();
  const handler = new ProjectMetricsHandler(sink, { confirmMs: 10 });
  const path = join(cf, 'test-results-iteration-1.md');
  await writeFile(path, '# Tests\nStill running…\n');
  const reported = sink.next('problem');
  await handler.handle({ kind: 'add', path, root });
  await reported;
  assert.equal(sink.problems[0]?.code, 'no_test_results');
  assert.equal(sink.problems[0]?.projectDir, join(root, 'app'));
  handler.close();
});

test('JSONL handler: a missing file is quiet; bad lines become one problem per poll', async () => {
  const { root } = await project();
  const sink = new Recorder();
  const saved = new Map<string, TailOffset>();
  const handler = new JsonlLogHandler(sink, {
    getOffset: async (p) => saved.get(p) ?? null,
    setOffset: async (o) => {
      saved.set(o.path, o);
    },
  });
  const dir = join(root, 'logs', 'ralph_s');
  await mkdir(dir, { recursive: true });
  const path = join(dir, 'session.jsonl');
  await handler.handle({ kind: 'add', path: join(dir, 'gone.jsonl'), root });
  await writeFile(path, '{"a":1}\n{oops\n');
  await handler.handle({ kind: 'add', path, root });
  assert.deepEqual(sink.batches[0]?.values, [{ a: 1 }]);
  assert.equal(sink.batches[0]?.sessionId, 's');
  assert.equal(sink.problems.length, 1);
  assert.equal(sink.problems[0]?.code, 'invalid_lines');
  assert.equal(saved.get(path)?.offset, 14);
});
