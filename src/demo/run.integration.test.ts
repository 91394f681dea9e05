import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import { parsePhaseJson } from '../core/session/document.ts';
import { MemoryHub } from '../hub/hub.ts';
import { LogBook } from '../hub/logbook.ts';
import { SessionEngine } from '../hub/session-engine.ts';
import { SessionFilesHandler } from '../sources/phase-files.ts';
import { RootWatcher } from '../sources/watcher.ts';
import { SqliteStore } from '../store/sqlite-store.ts';
import { type DemoPhaseEvent, runDemo } from './run.ts';
import { buildScript } from './script.ts';

const temps: string[] = [];
after(async () => {
  for (const dir of temps) await rm(dir, { recursive: true, force: true });
});
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ls-demo-'));
  temps.push(dir);
  return dir;
}

describe('runDemo', () => {
  it('writes complete, parseable builds with a failing then passing test loop', async () => {
    const root = await tempDir();
    const phases: DemoPhaseEvent[] = [];
    const summary = await runDemo({
      root,
      sessions: 2,
      rate: 5000,
      once: true,
      tag: 't',
      onPhase: (e) => phases.push(e),
    });
    const steps = buildScript('x').length;
    assert.deepEqual(summary, {
      dir: join(root, 'livestream-demo'),
      sessions: 2,
      completed: 2,
      updates: steps * 2,
    });
    assert.deepEqual((await readdir(summary.dir)).sort(), ['todo-api-t', 'weather-app-t']);

    const project = join(summary.dir, 'weather-app-t');
    const cf = join(project, '.context-foundry');
    const final = parsePhaseJson(await readFile(join(cf, 'current-phase.json'), 'utf8'));
    assert.ok(final.ok);
    assert.equal(final.doc.status, 'completed');
    assert.equal(final.doc.sessionId, 'weather-app-t');
    assert.ok(final.doc.phasesCompleted.includes('Builder'));
    assert.match(await readFile(join(cf, 'test-results-iteration-1.md'), 'utf8'), /Failed: 3/);
    assert.match(await readFile(join(cf, 'test-results-iteration-2.md'), 'utf8'), /Failed: 0/);
    const feedback = (await readdir(join(cf, 'feedback')))[0] as string;
    assert.match(feedback, /^build-feedback-\d{8}\.json$/);
    assert.ok(
      Array.isArray(
        JSON.parse(await readFile(join(cf, 'feedback', feedback), 'utf8')).issues_found,
      ),
    );
    assert.ok(
      JSON.parse(await readFile(join(cf, 'patterns', 'common-issues.json'), 'utf8')).patterns
        .length > 0,
    );

    const tokens = (
      await readFile(join(project, 'logs', 'ralph_weather-app-t', 'session.jsonl'), 'utf8')
    )
      .trim()
      .split('\n');
    assert.equal(tokens.length, steps);
    const last = JSON.parse(tokens.at(-1) as string);
    assert.ok(last.metadata.total_input > last.metadata.input_tokens);
    const events = (
      await readFile(join(project, 'logs', 'events', 'weather-app-t', 'events.jsonl'), 'utf8')
    )
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      events.map((e) => e.sequence),
      events.map((_, i) => i + 1),
    );
    assert.ok(events.some((e) => e.type === 'completion'));

    const mine = phases.filter((p) => p.sessionId === 'weather-app-t');
    assert.ok(mine.some((p) => p.phaseNumber === '4.5/8'));
    assert.equal(mine.at(-1)?.status, 'completed');
    // One line per phase change: the two Builder steps and the test loop print once each.
    assert.equal(mine.filter((p) => p.phase === 'Builder').length, 1);
  });

  it('stops when aborted', async () => {
    const root = await tempDir();
    const controller = new AbortController();
    let seen = 0;
    const summary = await runDemo(
      {
        root,
        rate: 1000,
        onPhase: () => {
          if (++seen === 2) controller.abort();
        },
      },
      controller.signal,
    );
    assert.ok(summary.updates < buildScript('x').length);
    assert.equal(summary.completed, 0);
  });

  it('starts new builds after each completion when not --once', async () => {
    const root = await tempDir();
    const controller = new AbortController();
    const summary = await runDemo(
      {
        root,
        rate: 5000,
        tag: 'c',
        onPhase: (e) => {
          if (e.sessionId === 'todo-api-c') controller.abort();
        },
      },
      controller.signal,
    );
    assert.equal(summary.completed, 1);
    assert.equal(summary.sessions, 2);
  });

  it('drives a watched root through the session engine to a completed session', async (t) => {
    const root = await tempDir();
    const logger = pino({ level: 'silent' });
    const store = SqliteStore.open(join(root, 'db', 'history.db'), { logger });
    const hub = new MemoryHub();
    const engine = new SessionEngine({ hub, store, logs: new LogBook(hub), logger });
    const files = new SessionFilesHandler((event) => engine.apply(event));
    const watcher = new RootWatcher({ roots: [root], handlers: [files], logger });
    t.after(async () => {
      await watcher.stop();
      files.close();
      engine.close();
      await store.close();
    });
    await watcher.start();
    const completed = new Promise<string>((done) => {
      engine.onChange((key) => {
        if (engine.get(key)?.status.state === 'completed') done(key);
      });
    });
    await runDemo({ root, rate: 200, once: true, tag: 'e' });
    const key = await completed;
    assert.equal(key, 'weather-app-e');
    const detail = engine.get(key);
    assert.equal(detail?.status.progressPercent, 100);
    assert.equal(detail?.status.projectDir, join(root, 'livestream-demo', 'weather-app-e'));
    assert.ok((detail?.timeline.length ?? 0) >= 2);
    assert.equal(detail?.timeline.at(-1)?.phase, 'Feedback');
  });
});
