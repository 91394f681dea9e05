import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BurstReader } from './burst-reader.ts';
import { isCheckpointFile } from './checkpoints.ts';
import { isPhaseFile, type ReadOutcome } from './phase-files.ts';

/** A read whose completion the test controls. */
function controlledReads() {
  const pending: { key: string; finish: (o: ReadOutcome) => void }[] = [];
  const started: string[] = [];
  const read = (key: string) =>
    new Promise<ReadOutcome>((finish) => {
      started.push(key);
      pending.push({ key, finish });
    });
  const next = async () => {
    while (pending.length === 0) await new Promise((r) => setImmediate(r));
    return pending.shift() as { key: string; finish: (o: ReadOutcome) => void };
  };
  return { read, started, next };
}

const good = (path: string): ReadOutcome => ({
  kind: 'document',
  value: {
    path,
    projectDir: '/p',
    source: 'file',
    doc: {} as never,
    raw: {},
    at: 1,
  },
});
const bad = (path: string): ReadOutcome => ({
  kind: 'problem',
  value: { path, projectDir: '/p', code: 'invalid_json', message: 'half', at: 1 },
});

describe('BurstReader', () => {
  it('reads the first event at once and folds a burst into one trailing read', async () => {
    const reads = controlledReads();
    const delivered: ReadOutcome[] = [];
    const reader = new BurstReader({ read: reads.read, deliver: (o) => delivered.push(o) });
    const first = reader.notify('f');
    assert.deepEqual(reads.started, ['f']);
    void reader.notify('f');
    void reader.notify('f');
    void reader.notify('f');
    (await reads.next()).finish(good('f'));
    (await reads.next()).finish(good('f'));
    await first;
    assert.equal(reads.started.length, 2);
    assert.equal(delivered.length, 2);
    reader.close();
  });

  it('does not report a half-written read that the trailing read completes', async () => {
    const reads = controlledReads();
    const delivered: ReadOutcome[] = [];
    const reader = new BurstReader({
      read: reads.read,
      deliver: (o) => delivered.push(o),
      confirmMs: 60_000,
    });
    const done = reader.notify('f');
    void reader.notify('f');
    (await reads.next()).finish(bad('f'));
    (await reads.next()).finish(good('f'));
    await done;
    assert.deepEqual(
      delivered.map((o) => o.kind),
      ['document'],
    );
    reader.close();
  });

  it('re-reads a lone bad read within milliseconds and delivers the completed write', async () => {
    const reads = controlledReads();
    const delivered: ReadOutcome[] = [];
    const reader = new BurstReader({
      read: reads.read,
      deliver: (o) => delivered.push(o),
      confirmMs: 60_000,
    });
    void reader.notify('f');
    (await reads.next()).finish(bad('f'));
    // No watcher event follows: the reader's own quick re-read picks up the write.
    const reread = await reads.next();
    reread.finish(good('f'));
    while (delivered.length === 0) await new Promise((r) => setImmediate(r));
    assert.deepEqual(
      delivered.map((o) => o.kind),
      ['document'],
    );
    assert.equal(reads.started.length, 2);
    reader.close();
  });

  it('reports a problem only once it has lasted the confirmation delay', async () => {
    let reads = 0;
    const delivered: ReadOutcome[] = [];
    let reported: () => void = () => undefined;
    const problem = new Promise<void>((r) => {
      reported = r;
    });
    const reader = new BurstReader({
      read: async (key) => {
        reads++;
        return bad(key);
      },
      deliver: (o) => {
        delivered.push(o);
        reported();
      },
      confirmMs: 40,
    });
    const started = performance.now();
    void reader.notify('f');
    await problem;
    assert.ok(performance.now() - started >= 40, 'reported before the confirmation delay');
    assert.ok(reads >= 2, 'the problem was re-read before it was reported');
    assert.deepEqual(
      delivered.map((o) => o.kind),
      ['problem'],
    );
    reader.close();
  });

  it('keeps different files apart', async () => {
    const reads = controlledReads();
    const reader = new BurstReader({ read: reads.read, deliver: () => undefined });
    void reader.notify('a');
    void reader.notify('b');
    assert.deepEqual(reads.started, ['a', 'b']);
    reader.close();
  });
});

describe('path matching', () => {
  it('matches phase files at any depth and nothing else', () => {
    assert.ok(isPhaseFile('.context-foundry/current-phase.json'));
    assert.ok(isPhaseFile('a/b/.context-foundry/current-phase.json'));
    assert.ok(!isPhaseFile('a/context-foundry/current-phase.json'));
    assert.ok(!isPhaseFile('a/.context-foundry/current-phase.json.bak'));
    assert.ok(!isPhaseFile('a/x.context-foundry/current-phase.json'));
  });

  it('matches checkpoint files', () => {
    assert.ok(isCheckpointFile('checkpoints/ralph/s1/state.json'));
    assert.ok(isCheckpointFile('home/checkpoints/ralph/s1/progress.json'));
    assert.ok(isCheckpointFile('checkpoints/ralph/s1/COMPLETE'));
    assert.ok(!isCheckpointFile('checkpoints/ralph/state.json'));
    assert.ok(!isCheckpointFile('checkpoints/ralph/s1/deep/state.json'));
    assert.ok(!isCheckpointFile('xcheckpoints/ralph/s1/state.json'));
  });
});
