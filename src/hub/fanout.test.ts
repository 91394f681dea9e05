import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DeltaMessage } from '../shared/protocol.ts';
import { InProcessFanOut } from './fanout.ts';

function delta(topic: string, seq: number): DeltaMessage {
  return { type: 'delta', topic, version: seq, seq, op: 'patch', patch: [] };
}

test('subscribers receive only their topic; subscribeAll receives everything', () => {
  const fanout = new InProcessFanOut();
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
