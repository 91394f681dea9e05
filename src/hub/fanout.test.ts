import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InProcessBus } from './fanout.ts';
import type { Change } from './types.ts';

function delta(topic: string, version: number): Change {
  return { type: 'delta', topic, version, op: 'patch', patch: [] };
}

test('subscribers receive only their topic; subscribeAll receives everything', () => {
  const fanout = new InProcessBus();
  const a: number[] = [];
  const all: number[] = [];
  const offA = fanout.subscribe('session:a', (d) => a.push(d.seq));
  const offAll = fanout.subscribeAll((d) => all.push(d.seq));
  fanout.publish(delta('session:a', 1));
  fanout.publish(delta('session:b', 2));
  assert.deepEqual(a, [1]);
  assert.deepEqual(all, [1, 2]);
  assert.equal(fanout.subscriptions, 1);
  offA();
  offA();
  offAll();
  fanout.publish(delta('session:a', 3));
  assert.deepEqual(a, [1]);
  assert.deepEqual(all, [1, 2]);
  assert.equal(fanout.subscriptions, 0);
});

test('the bus gives each change the next seq and replays what a client missed', () => {
  const bus = new InProcessBus({ limits: { maxDeltas: 3 } });
  for (let i = 1; i <= 5; i++) assert.equal(bus.publish(delta(`session:${i % 2}`, i)).seq, i);
  assert.equal(bus.seq, 5);
  assert.deepEqual(
    bus.since(3, new Set(['session:1']))?.map((d) => d.seq),
    [5],
  );
  assert.equal(
    bus.since(1, new Set(['session:1'])),
    null,
    'evicted: the log no longer reaches back',
  );
  assert.equal(bus.since(6, new Set(['session:1'])), null, 'a seq from the future');
});

test('accept mirrors a log read elsewhere: in order, once, and no replay across a gap', () => {
  const bus = new InProcessBus();
  const seen: number[] = [];
  bus.subscribeAll((d) => seen.push(d.seq));
  const at = (seq: number) =>
    ({ ...delta('session:a', seq), seq }) as ReturnType<InProcessBus['publish']>;
  assert.equal(bus.accept(at(7)), true);
  assert.equal(bus.accept(at(7)), false, 'a delta read twice is delivered once');
  assert.equal(bus.accept(at(8)), true);
  assert.deepEqual(seen, [7, 8]);
  assert.equal(bus.since(2, new Set(['session:a'])), null, 'before the mirror started');
  assert.deepEqual(
    bus.since(6, new Set(['session:a']))?.map((d) => d.seq),
    [7, 8],
  );
});
