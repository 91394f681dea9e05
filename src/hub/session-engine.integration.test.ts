import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, symlink, unlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it, type TestContext } from 'node:test';
import { pino } from 'pino';
import type { SessionDetail, SessionStatus } from '../shared/model.ts';
import { SessionFilesHandler } from '../sources/phase-files.ts';
import type { FileEvent, FileHandler } from '../sources/types.ts';
import { RootWatcher } from '../sources/watcher.ts';
import { SqliteStore } from '../store/sqlite-store.ts';
import { MemoryHub } from './hub.ts';
import { LogBook } from './logbook.ts';
import { SessionEngine } from './session-engine.ts';

const temps: string[] = [];
after(async () => {
  for (const dir of temps) await rm(dir, { recursive: true, force: true });
});

const silent = pino({ level: 'silent' });
const T0 = Date.UTC(2025, 0, 13, 0, 30);

async function setup(
  t: TestContext,
  opts: { dir?: string; confirmMs?: number; settleMs?: number } = {},
) {
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), 'ls-engine-')));
  if (!opts.dir) temps.push(dir);
  const store = SqliteStore.open(join(dir, 'history.db'), { logger: silent });
  const hub = new MemoryHub();
  const logs = new LogBook(hub);
  const engine = new SessionEngine({
    hub,
    store,
    logs,
    logger: silent,
    ...(opts.settleMs === undefined ? {} : { settleMs: opts.settleMs }),
  });
  // One source for phase files and checkpoints, as `createEngines` wires it.
  const files = new SessionFilesHandler((event) => engine.apply(event), {
    confirmMs: opts.confirmMs ?? 60_000,
  });
  t.after(async () => {
    files.close();
    engine.close();
    await store.close();
  });
  await engine.restore();
  const phase: FileHandler = files;
  const checkpoint: FileHandler = files;
  const feed = (handler: FileHandler, path: string, kind: FileEvent['kind'] = 'change') =>
    handler.handle({ kind, path, root: dir }) as Promise<void>;
  return { dir, store, hub, logs, engine, phase, checkpoint, feed, files };
}

function phaseDoc(fields: Record<string, unknown> = {}) {
  return {
    session_id: 'weather-app',
    current_phase: 'Scout',
    phase_number: '2/7',
    status: 'researching',
    started_at: '2025-01-13T00:30:00',
    ...fields,
  };
}

/** Writes a phase file with a chosen mtime (the trustworthy clock). */
async function writePhase(project: string, doc: unknown, mtime: number): Promise<string> {
  const path = join(project, '.context-foundry', 'current-phase.json');
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, typeof doc === 'string' ? doc : JSON.stringify(doc));
  await utimes(path, mtime / 1000, mtime / 1000);
  return path;
}

function sessionsTopic(hub: MemoryHub): Record<string, SessionStatus> {
  const data = hub.get('sessions')?.data as { sessions: Record<string, SessionStatus> } | undefined;
  return data?.sessions ?? {};
}

describe('SessionEngine with phase files', () => {
  it('publishes a session, records phase changes in history and the log, ignores identical rewrites', async (t) => {
    const { dir, hub, store, logs, engine, phase, feed } = await setup(t);
    const project = join(dir, 'weather-app');
    const path = await writePhase(project, phaseDoc(), T0);
    await feed(phase, path, 'add');
    const detail = hub.get('session:weather-app')?.data as SessionDetail;
    assert.equal(detail.status.currentPhase, 'Scout');
    assert.equal(detail.status.source, 'file');
    assert.equal(detail.status.changedAt, T0);
    assert.equal(detail.status.projectDir, project);
    assert.equal(sessionsTopic(hub)['weather-app']?.id, 'weather-app');

    await writePhase(
      project,
      phaseDoc({ current_phase: 'Architect', phase_number: '3/7' }),
      T0 + 60_000,
    );
    await feed(phase, path);
    const seq = hub.seq;
    await writePhase(
      project,
      phaseDoc({ current_phase: 'Architect', phase_number: '3/7' }),
      T0 + 90_000,
    );
    await feed(phase, path);
    assert.equal(hub.seq, seq, 'an identical rewrite publishes nothing');
    assert.equal(engine.get('weather-app')?.status.changedAt, T0 + 60_000);

    const transitions = await store.transitions('weather-app');
    assert.deepEqual(
      transitions.map((x) => [x.from, x.to, x.at]),
      [
        [null, 'Scout', T0],
        ['Scout', 'Architect', T0 + 60_000],
      ],
    );
    const stored = await store.getSession('weather-app');
    assert.equal(stored?.status.currentPhase, 'Architect');
    assert.equal(
      (stored?.document as { current_phase?: string } | undefined)?.current_phase,
      'Architect',
    );
    assert.deepEqual(
      logs.tail('weather-app', 10).map((l) => l.text),
      [
        'Session weather-app: Scout (2/7), researching',
        'Phase Scout → Architect (3/7), researching',
      ],
    );
    assert.deepEqual(
      engine.get('weather-app')?.timeline.map((e) => [e.phase, e.durationMs]),
      [
        ['Scout', 60_000],
        ['Architect', null],
      ],
    );
    assert.equal(engine.keyForProject(project), 'weather-app');
  });

  it('falls back to the folder name without session_id and keeps extras', async (t) => {
    const { dir, engine, phase, feed } = await setup(t);
    const path = await writePhase(
      join(dir, 'todo-api'),
      { current_phase: 'builder', status: 'weird', tasks_completed: 3 },
      T0,
    );
    await feed(phase, path, 'add');
    const status = engine.get('todo-api')?.status;
    assert.equal(status?.sessionId, 'todo-api');
    assert.equal(status?.status, 'weird');
    assert.equal(status?.state, 'active');
    assert.deepEqual(status?.extras, { tasks_completed: 3 });
  });

  it('keeps two folders with the same session_id apart, with stable keys after a restart', async (t) => {
    const first = await setup(t);
    const a = await writePhase(join(first.dir, 'one', 'weather-app'), phaseDoc(), T0);
    const b = await writePhase(
      join(first.dir, 'two', 'copy'),
      phaseDoc({ current_phase: 'Test' }),
      T0 + 1000,
    );
    await first.feed(first.phase, a, 'add');
    await first.feed(first.phase, b, 'add');
    assert.deepEqual(Object.keys(sessionsTopic(first.hub)).sort(), [
      'weather-app',
      'weather-app@copy',
    ]);
    assert.equal(first.engine.get('weather-app')?.status.currentPhase, 'Scout');
    assert.equal(first.engine.get('weather-app@copy')?.status.currentPhase, 'Test');
    assert.equal((await first.store.transitions('weather-app')).length, 1);
    first.engine.close();
    await first.store.close();

    // A restart: files are scanned in the other order; keys must not swap.
    const second = await setup(t, { dir: first.dir });
    assert.equal(second.engine.get('weather-app@copy')?.status.currentPhase, 'Test');
    assert.deepEqual(
      second.engine.get('weather-app')?.timeline.map((e) => e.phase),
      ['Scout'],
    );
    await writePhase(
      join(first.dir, 'two', 'copy'),
      phaseDoc({ current_phase: 'Deploy' }),
      T0 + 5000,
    );
    await second.feed(second.phase, b, 'add');
    await second.feed(second.phase, a, 'add');
    assert.equal(second.engine.get('weather-app@copy')?.status.currentPhase, 'Deploy');
    assert.equal(second.engine.get('weather-app')?.status.currentPhase, 'Scout');
    assert.equal(second.engine.list().length, 2);
  });

  it('merges a push and a phase file naming the same session', async (t) => {
    const { dir, engine, phase, feed } = await setup(t);
    const pushed = engine.ingestPush(phaseDoc(), T0);
    assert.deepEqual(pushed, {
      ok: true,
      key: 'weather-app',
      sessionId: 'weather-app',
      changed: true,
    });
    assert.equal(engine.get('weather-app')?.status.source, 'push');
    const again = engine.ingestPush(phaseDoc(), T0 + 10);
    assert.ok(again.ok && !again.changed);

    const project = join(dir, 'weather-app');
    const path = await writePhase(project, phaseDoc({ current_phase: 'Architect' }), T0 + 1000);
    await feed(phase, path, 'add');
    assert.equal(engine.list().length, 1);
    const status = engine.get('weather-app')?.status;
    assert.equal(status?.source, 'file');
    assert.equal(status?.projectDir, project);
    assert.equal(status?.currentPhase, 'Architect');

    const after = engine.ingestPush(phaseDoc({ current_phase: 'Builder' }), T0 + 2000);
    assert.ok(after.ok && after.changed);
    assert.equal(engine.get('weather-app')?.status.source, 'push');
    assert.equal(engine.keyFor('weather-app'), 'weather-app');
    assert.equal(engine.keyFor('nope'), null);
  });

  it('rejects bad push bodies with a message saying what is wrong', async (t) => {
    const { engine } = await setup(t);
    const cases: [unknown, RegExp][] = [
      [null, /JSON object/],
      ['text', /JSON object/],
      [[1], /JSON object/],
      [{ session_id: 'x' }, /current_phase/],
      [{ current_phase: 'Scout' }, /session_id/],
      [{ session_id: 'x'.repeat(500), status: 'a' }, /longer than/],
    ];
    for (const [body, pattern] of cases) {
      const result = engine.ingestPush(body, T0);
      assert.equal(result.ok, false);
      if (!result.ok) assert.match(result.error, pattern);
    }
    assert.equal(engine.list().length, 0);
  });

  it('Feedback 7/8 completed ends an 8-phase build once nothing follows; GitHub Integration after it continues', async (t) => {
    const { engine, hub } = await setup(t, { settleMs: 40 });
    const feedback = { current_phase: 'Feedback', phase_number: '7/8', status: 'completed' };
    engine.ingestPush(phaseDoc({ session_id: 'eight', ...feedback }), T0);
    engine.ingestPush(phaseDoc({ session_id: 'current', ...feedback }), T0);
    assert.equal(
      engine.get('eight')?.status.state,
      'active',
      'not ended yet: GitHub Integration may follow',
    );
    engine.ingestPush(
      phaseDoc({
        session_id: 'current',
        current_phase: 'GitHub Integration',
        phase_number: '7.5/8',
        status: 'configuring',
      }),
      T0 + 10,
    );
    await new Promise<void>((resolve) => {
      const off = hub.fanout.subscribe('session:eight', () => {
        if (engine.get('eight')?.status.state === 'completed') {
          off();
          resolve();
        }
      });
    });
    const eight = engine.get('eight')?.status;
    assert.equal(eight?.progressPercent, 100);
    assert.equal(eight?.template, 'cf-8');
    assert.equal(eight?.changedAt, T0, 'ended at the last document, not at the timer');
    assert.equal(engine.get('current')?.status.state, 'active');
  });

  it('lists live sessions first, then by last change, and filters by state', async (t) => {
    const { engine } = await setup(t);
    engine.ingestPush(
      phaseDoc({ session_id: 'old-done', current_phase: 'Complete', status: 'completed' }),
      T0 + 5000,
    );
    engine.ingestPush(phaseDoc({ session_id: 'live-old' }), T0);
    engine.ingestPush(phaseDoc({ session_id: 'live-new' }), T0 + 1000);
    engine.ingestPush(phaseDoc({ session_id: 'broken', status: 'failed' }), T0 + 2000);
    assert.deepEqual(
      engine.list().map((s) => s.id),
      ['live-new', 'live-old', 'old-done', 'broken'],
    );
    assert.deepEqual(
      engine.list({ state: 'failed' }).map((s) => s.id),
      ['broken'],
    );
    assert.equal(engine.get('old-done')?.status.progressPercent, 100);
  });

  it('notifies change listeners and publishes new objects, never mutating the hub state', async (t) => {
    const { engine, hub } = await setup(t);
    const seen: string[] = [];
    const off = engine.onChange((key) => seen.push(key));
    engine.ingestPush(phaseDoc(), T0);
    const before = hub.get('session:weather-app')?.data as SessionDetail;
    const frozen = JSON.stringify(before);
    engine.ingestPush(phaseDoc({ current_phase: 'Builder' }), T0 + 1000);
    assert.equal(JSON.stringify(before), frozen);
    off();
    engine.ingestPush(phaseDoc({ current_phase: 'Test' }), T0 + 2000);
    assert.deepEqual(seen, ['weather-app', 'weather-app']);
  });
});

describe('SessionEngine with bad phase files', () => {
  /** Resolves once the session carries a warning (the engine confirms problems on its own timer). */
  function warning(engine: SessionEngine): Promise<void> {
    return new Promise<void>((done) => {
      const check = () => {
        if ((engine.get('weather-app')?.status.warnings.length ?? 0) > 0) {
          off();
          done();
        }
      };
      const off = engine.onChange(check);
      check();
    });
  }

  async function withSession(t: TestContext, confirmMs?: number) {
    const ctx = await setup(t, confirmMs === undefined ? {} : { confirmMs });
    const project = join(ctx.dir, 'weather-app');
    const path = await writePhase(project, phaseDoc(), T0);
    await ctx.feed(ctx.phase, path, 'add');
    return { ...ctx, project, path };
  }

  it('keeps the last good state through a half-written burst without a warning', async (t) => {
    const { engine, phase, feed, path, logs, project } = await withSession(t);
    await writePhase(project, '{"session_id":"weather-app","current_ph', T0 + 1000);
    await feed(phase, path);
    assert.deepEqual(engine.get('weather-app')?.status.warnings, []);
    await writePhase(project, phaseDoc({ current_phase: 'Architect' }), T0 + 1001);
    await feed(phase, path);
    const status = engine.get('weather-app')?.status;
    assert.equal(status?.currentPhase, 'Architect');
    assert.deepEqual(status?.warnings, []);
    assert.ok(!logs.tail('weather-app', 10).some((l) => l.level === 'warn'));
  });

  for (const [name, content, code] of [
    ['empty', '', 'empty'],
    ['not JSON', 'hello, I am not json', 'invalid_json'],
    ['not a session document', '[1,2,3]', 'invalid_document'],
    ['over 1 MB', `{"x":"${'a'.repeat(1024 * 1024)}"}`, 'too_large'],
  ] as const) {
    it(`warns once about a file that stays ${name}, then recovers`, async (t) => {
      const { engine, phase, feed, path, logs, project, hub } = await withSession(t, 30);
      await writePhase(project, content, T0 + 1000);
      await feed(phase, path);
      await warning(engine);
      const warned = engine.get('weather-app')?.status;
      assert.equal(warned?.currentPhase, 'Scout', 'the last good state is kept');
      assert.deepEqual(
        warned?.warnings.map((w) => w.code),
        [code],
      );
      const seq = hub.seq;
      await feed(phase, path);
      await feed(phase, path);
      assert.equal(hub.seq, seq, 'the same problem is not published again');
      assert.equal(logs.tail('weather-app', 10).filter((l) => l.level === 'warn').length, 1);

      await writePhase(project, phaseDoc({ current_phase: 'Builder' }), T0 + 2000);
      await feed(phase, path);
      const recovered = engine.get('weather-app')?.status;
      assert.equal(recovered?.currentPhase, 'Builder');
      assert.deepEqual(recovered?.warnings, []);
    });
  }

  it('a write split by pauses warns viewers once, however its halves fail to parse', async (t) => {
    const { engine, phase, feed, path, logs, project, hub } = await withSession(t, 0);
    const full = JSON.stringify(
      phaseDoc({ current_phase: 'Builder', progress_detail: 'x'.repeat(200) }),
    );
    let seq = -1;
    for (const cut of [10, 60, 150]) {
      await writePhase(project, full.slice(0, cut), T0 + 1000 + cut);
      await feed(phase, path);
      await warning(engine);
      if (seq < 0) seq = hub.seq;
    }
    assert.equal(hub.seq, seq, 'later halves (other parse errors) are not published again');
    assert.equal(logs.tail('weather-app', 10).filter((l) => l.level === 'warn').length, 1);
    await writePhase(project, full, T0 + 2000);
    await feed(phase, path);
    assert.equal(engine.get('weather-app')?.status.currentPhase, 'Builder');
    assert.deepEqual(engine.get('weather-app')?.status.warnings, []);
  });

  it('reports a lasting problem after the confirmation delay, on its own', async (t) => {
    const { engine, phase, feed, path, project } = await withSession(t, 10);
    const warned = new Promise<void>((done) => {
      engine.onChange(() => {
        if ((engine.get('weather-app')?.status.warnings.length ?? 0) > 0) done();
      });
    });
    await writePhase(project, '{"broken', T0 + 1000);
    await feed(phase, path);
    await warned;
    assert.equal(engine.get('weather-app')?.status.warnings[0]?.code, 'invalid_json');
  });

  it('warns about a directory named current-phase.json', async (t) => {
    const { engine, phase, feed, path } = await withSession(t, 30);
    await unlink(path);
    await mkdir(path);
    await feed(phase, path);
    await warning(engine);
    assert.equal(engine.get('weather-app')?.status.warnings[0]?.code, 'not_a_file');
  });

  it('warns about an unreadable file', async (t) => {
    const { engine, phase, feed, path } = await withSession(t, 30);
    if (process.getuid?.() === 0) {
      // Root ignores permission bits; a symlink loop in place of the file is unreadable to anyone.
      await unlink(path);
      await symlink(path, path);
    } else {
      await chmod(path, 0o000);
    }
    await feed(phase, path);
    await warning(engine);
    assert.equal(engine.get('weather-app')?.status.warnings[0]?.code, 'unreadable');
  });

  it('keeps a deleted file’s session as last known', async (t) => {
    const { engine, phase, feed, path, hub } = await withSession(t);
    const seq = hub.seq;
    await unlink(path);
    await feed(phase, path, 'unlink');
    assert.equal(hub.seq, seq);
    assert.equal(engine.get('weather-app')?.status.currentPhase, 'Scout');
  });

  it('logs a problem of a file no session is known for, without inventing a session', async (t) => {
    const { dir, engine, phase, feed } = await setup(t);
    const path = await writePhase(join(dir, 'fresh'), '', T0);
    await feed(phase, path, 'add');
    await feed(phase, path);
    assert.equal(engine.list().length, 0);
  });
});

describe('SessionEngine with checkpoints', () => {
  async function writeCheckpoint(
    root: string,
    id: string,
    state: object,
    mtime: number,
    complete = false,
  ) {
    const folder = join(root, 'checkpoints', 'ralph', id);
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, 'state.json'), JSON.stringify(state));
    await writeFile(
      join(folder, 'progress.json'),
      JSON.stringify({ completed: ['1: a'], remaining: ['2: b'] }),
    );
    for (const f of ['state.json', 'progress.json'])
      await utimes(join(folder, f), mtime / 1000, mtime / 1000);
    if (complete) await writeFile(join(folder, 'COMPLETE'), '');
    return join(folder, 'state.json');
  }

  it('shows a checkpoint when there is no live data', async (t) => {
    const { dir, engine, checkpoint, feed } = await setup(t);
    const path = await writeCheckpoint(
      dir,
      'ralph-1',
      { session_id: 'ralph-1', current_phase: 'builder' },
      T0,
    );
    await feed(checkpoint, path, 'add');
    const status = engine.get('ralph-1')?.status;
    assert.equal(status?.source, 'checkpoint');
    assert.equal(status?.currentPhase, 'builder');
    assert.equal(status?.progressPercent, 50);
    await writeCheckpoint(
      dir,
      'ralph-1',
      { session_id: 'ralph-1', current_phase: 'complete' },
      T0 + 1000,
      true,
    );
    await feed(checkpoint, path);
    assert.equal(engine.get('ralph-1')?.status.state, 'completed');
  });

  it('lets fresh live data win and the checkpoint fill in only when the live data is old', async (t) => {
    const { dir, engine, phase, checkpoint, feed } = await setup(t);
    const live = await writePhase(
      join(dir, 'weather-app'),
      phaseDoc({ current_phase: 'Test' }),
      T0,
    );
    await feed(phase, live, 'add');
    const cp = await writeCheckpoint(
      dir,
      'weather-app',
      { session_id: 'weather-app', current_phase: 'builder' },
      T0 + 1000,
    );
    await feed(checkpoint, cp, 'add');
    assert.equal(engine.get('weather-app')?.status.currentPhase, 'Test');
    assert.equal(engine.get('weather-app')?.status.source, 'file');

    await writeCheckpoint(
      dir,
      'weather-app',
      { session_id: 'weather-app', current_phase: 'architect' },
      T0 + 10 * 60_000,
    );
    await feed(checkpoint, cp);
    assert.equal(engine.get('weather-app')?.status.currentPhase, 'architect');
    assert.equal(engine.get('weather-app')?.status.source, 'checkpoint');
    assert.equal(engine.list().length, 1);
  });
});

describe('SessionEngine behind the root watcher', () => {
  it('follows a project created after start, through a symlink loop in the tree', async (t) => {
    const { dir, engine, files } = await setup(t);
    const root = join(dir, 'root');
    await mkdir(join(root, 'loops'), { recursive: true });
    await symlink(root, join(root, 'loops', 'back'));
    const watcher = new RootWatcher({ roots: [root], handlers: [files], logger: silent });
    t.after(() => watcher.stop());
    await watcher.start();
    const arrived = new Promise<void>((done) => {
      engine.onChange((key) => {
        if (engine.get(key)?.status.currentPhase === 'Builder') done();
      });
    });
    await writePhase(join(root, 'later', 'demo-app'), phaseDoc({ session_id: 'demo-app' }), T0);
    await writePhase(
      join(root, 'later', 'demo-app'),
      phaseDoc({ session_id: 'demo-app', current_phase: 'Builder' }),
      T0 + 1000,
    );
    await arrived;
    assert.equal(engine.keyForProject(join(root, 'later', 'demo-app')), 'demo-app');
  });
});
