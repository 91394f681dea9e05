import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryHub } from './hub.ts';
import { LogBook } from './logbook.ts';

describe('LogBook', () => {
  it('numbers lines per session and appends them to the logs topic', () => {
    const hub = new MemoryHub();
    const book = new LogBook(hub);
    const a1 = book.append('a', { at: 1, level: 'info', text: 'one' });
    const a2 = book.append('a', { at: 2, level: 'warn', text: 'two' });
    const b1 = book.append('b', { at: 3, level: 'event', text: 'x', kind: 'phase_change' });
    assert.deepEqual([a1.n, a2.n, b1.n], [1, 2, 1]);
    assert.deepEqual(hub.get('logs:a')?.data, { lines: [a1, a2] });
    assert.deepEqual(hub.get('logs:b')?.data, { lines: [b1] });
    assert.equal(book.tail('a', 1)[0]?.text, 'two');
    assert.deepEqual(book.tail('none', 5), []);
    assert.deepEqual(book.tail('a', 0), []);
  });

  it('keeps only the last cap lines, in memory and in the hub', () => {
    const hub = new MemoryHub();
    const book = new LogBook(hub, { cap: 3 });
    for (let i = 1; i <= 10; i++) book.append('s', { at: i, level: 'info', text: `l${i}` });
    assert.deepEqual(
      book.tail('s', 100).map((l) => l.n),
      [8, 9, 10],
    );
    const data = hub.get('logs:s')?.data as { lines: { n: number }[] };
    assert.deepEqual(
      data.lines.map((l) => l.n),
      [8, 9, 10],
    );
  });

  it('forgets a session: its lines and its topic', () => {
    const hub = new MemoryHub();
    const book = new LogBook(hub);
    book.append('s', { at: 1, level: 'info', text: 'one' });
    assert.equal(book.head('s'), 1);
    book.forget('s');
    assert.deepEqual(book.tail('s', 10), []);
    assert.equal(book.head('s'), null);
    assert.equal(hub.get('logs:s'), undefined);
  });

  it('without a store, nothing is loaded and nothing leaves memory', () => {
    let now = 0;
    const book = new LogBook(new MemoryHub(), { now: () => now });
    book.append('s', { at: 1, level: 'info', text: 'one' });
    now = 1e9;
    assert.equal(book.warm('s'), null);
    assert.equal(
      book.sweep(() => false),
      0,
    );
    assert.equal(book.tail('s', 10).length, 1);
  });
});
