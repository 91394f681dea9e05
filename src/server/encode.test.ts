import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { InProcessBus, type ReplayLimits } from '../hub/fanout.ts';
import { MemoryHub } from '../hub/hub.ts';
import type { DeltaMessage } from '../shared/protocol.ts';
import { encode, encodeBuffer, wireCodec } from './encode.ts';

/** A hub whose bus keeps the server's wire bytes, as `app.ts` wires it. */
function wiredHub(limits: Partial<ReplayLimits> = {}): MemoryHub {
  return new MemoryHub({ bus: new InProcessBus({ limits, codec: wireCodec }) });
}

test('encode serialises a message once', () => {
  const message = { type: 'x', text: 'héllo' };
  assert.equal(encode(message), encode(message));
  assert.equal(encodeBuffer(message), encodeBuffer(message));
  assert.equal(encodeBuffer(message).toString('utf8'), JSON.stringify(message));
});

test('encodeBuffer owns its bytes: a kept message never pins a shared Buffer pool', () => {
  const small = encodeBuffer({ type: 'x', n: 1 });
  assert.equal(small.buffer.byteLength, small.length);
  const text = encodeBuffer({ type: 'x', text: 'héllo ✓' });
  assert.equal(
    text.buffer.byteLength,
    Buffer.byteLength(JSON.stringify({ type: 'x', text: 'héllo ✓' })),
  );
});

test('the replay buffer keeps encoded deltas only, and resumes parse them back', async () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const hub = wiredHub({ maxDeltas: 50 });
  const refs: WeakRef<object>[] = [];
  const state = () => ({ rows: Array.from({ length: 20 }, (_, k) => ({ k, v: 'x'.repeat(40) })) });
  for (let i = 1; i <= 200; i++) {
    const delta = hub.set(`session:${i % 3}`, { i, ...state() });
    if (delta) refs.push(new WeakRef(delta));
  }
  const last = refs.at(-1)?.deref() as DeltaMessage;
  const bytes = encodeBuffer(last);
  await new Promise((resolve) => setImmediate(resolve));
  gc();
  assert.equal(
    refs.filter((r) => r.deref() !== undefined).length,
    1,
    'only the delta this test holds is alive',
  );
  const replayed = hub.since(199, new Set(['session:2'])) as DeltaMessage[];
  assert.equal(replayed.length, 1);
  assert.deepEqual(replayed[0], last);
  assert.equal(encodeBuffer(replayed[0] as DeltaMessage), bytes, 'sent as stored, not re-encoded');
  assert.equal(hub.replayStats.deltas, 50);
  assert.ok(hub.replayStats.bytes >= 50 * bytes.length * 0.9);
});

test('a snapshot encodes exactly as its JSON, its data serialised once per state', () => {
  const hub = wiredHub();
  const data = { name: 'a "quoted" \u2028 name', list: [1, null, { x: 'é' }] };
  hub.set('session:a', data);
  for (const name of ['session:a', 'plan:none', 'weird "topic"']) {
    const message = hub.snapshot(name);
    assert.equal(encode(message), JSON.stringify(message));
    assert.deepEqual(JSON.parse(encodeBuffer(message).toString('utf8')), message);
  }
  assert.equal(hub.snapshot('session:a').data, data);
});
