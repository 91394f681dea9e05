import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { captureLogger } from '../../test/helpers/store.ts';
import { type WriteOp, WriteQueue } from './write-queue.ts';

class DiskFull extends Error {}

/**
 * A tiny transactional log standing in for the database: `transaction`
 * commits all of a batch or nothing, and fails while `full` is set.
 */
function harness(opts: { pendingCap?: number } = {}) {
  const committed: string[] = [];
  let full = false;
  let transactions = 0;
  const { logger, lines } = captureLogger();
  const queue = new WriteQueue({
    transaction(fn) {
      const mark = committed.length;
      try {
        fn();
        if (full) throw new DiskFull('disk full');
        transactions++;
      } catch (error) {
        committed.length = mark;
        throw error;
      }
    },
    isEnvironmental: (error) => error instanceof DiskFull,
    describeError: (error) => String(error),
    logger,
    now: () => 42,
    pendingCap: opts.pendingCap,
    retryInitialMs: 60_000,
  });
  const op = (value: string, key: string | null = null): WriteOp => ({
    key,
    describe: value,
    apply() {
      if (value.startsWith('bad')) throw new TypeError(`cannot store ${value}`);
      committed.push(value);
    },
  });
  return {
    queue,
    op,
    committed,
    lines,
    transactions: () => transactions,
    setFull(value: boolean) {
      full = value;
    },
  };
}

describe('WriteQueue', () => {
  it('commits one transaction per turn and resolves every caller', async () => {
    const h = harness();
    await Promise.all(['a', 'b', 'c'].map((v) => h.queue.enqueue(h.op(v))));
    assert.deepEqual(h.committed, ['a', 'b', 'c']);
    assert.equal(h.transactions(), 1);
  });

  it('drops only the invalid write of a batch', async () => {
    const h = harness();
    await Promise.all(['a', 'bad-1', 'b'].map((v) => h.queue.enqueue(h.op(v))));
    assert.deepEqual(h.committed, ['a', 'b']);
    assert.equal(h.queue.health().writable, true);
    assert.equal(h.lines.filter((l) => l.msg.includes('bad-1')).length, 1);
  });

  it('replays parked writes in order, newest value of a key in its first place', async () => {
    const h = harness();
    h.setFull(true);
    await Promise.all([
      h.queue.enqueue(h.op('session v1', 'session')),
      h.queue.enqueue(h.op('t1')),
      h.queue.enqueue(h.op('bad-x')),
    ]);
    await h.queue.enqueue(h.op('t2'));
    await h.queue.enqueue(h.op('session v2', 'session'));
    assert.deepEqual(h.queue.health(), {
      writable: false,
      lastError: 'Error: disk full',
      pending: 4,
      dropped: 0,
      lastErrorAt: 42,
    });
    assert.equal(h.queue.retry(), false, 'still full');
    h.setFull(false);
    assert.equal(h.queue.retry(), true);
    assert.deepEqual(h.committed, ['session v2', 't1', 't2']);
    assert.equal(h.queue.health().writable, true);
    assert.equal(h.queue.health().pending, 0);
  });

  it('drops the oldest parked writes beyond the cap and counts them', async () => {
    const h = harness({ pendingCap: 3 });
    h.setFull(true);
    for (const v of ['1', '2', '3', '4', '5']) await h.queue.enqueue(h.op(v));
    assert.equal(h.queue.health().pending, 3);
    assert.equal(h.queue.health().dropped, 2);
    h.setFull(false);
    h.queue.retry();
    assert.deepEqual(h.committed, ['3', '4', '5']);
    h.queue.stop();
  });

  it('keeps calling the other health listeners when one throws', async () => {
    const h = harness();
    const seen: boolean[] = [];
    h.queue.onHealthChange(() => {
      throw new Error('listener bug');
    });
    const off = h.queue.onHealthChange((health) => seen.push(health.writable));
    h.setFull(true);
    await h.queue.enqueue(h.op('a'));
    h.setFull(false);
    h.queue.retry();
    off();
    h.setFull(true);
    await h.queue.enqueue(h.op('b'));
    assert.deepEqual(seen, [false, true]);
    h.queue.stop();
  });
});
