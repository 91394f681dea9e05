import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ForwardOutbox } from './forward-outbox.ts';

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});
async function file(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'livestream-outbox-'));
  dirs.push(dir);
  return join(dir, 'nested', 'outbox.db');
}

test('events wait in order until acknowledged, across a reopen, under the same id', async () => {
  const path = await file();
  const box = new ForwardOutbox(path);
  const seqs = [box.add({ n: 1 }), box.add({ n: 2 }), box.add({ n: 3 })];
  assert.deepEqual(
    box.peek(2, 1 << 20).map((e) => [e.seq, JSON.parse(e.body).n]),
    [
      [seqs[0], 1],
      [seqs[1], 2],
    ],
  );
  box.ack(seqs[0] as number);
  const id = box.id;
  await box.setOffset({ path: '/x/events.jsonl', offset: 42, ino: 7, size: 42 });
  box.close();

  const again = new ForwardOutbox(path);
  assert.equal(again.id, id, 'the server keys its high-water mark by this id');
  assert.deepEqual(
    again.peek(10, 1 << 20).map((e) => JSON.parse(e.body).n),
    [2, 3],
  );
  assert.deepEqual(again.stats.events, 2);
  assert.deepEqual(await again.getOffset('/x/events.jsonl'), {
    path: '/x/events.jsonl',
    offset: 42,
    ino: 7,
    size: 42,
  });
  assert.ok((again.add({ n: 4 }) as number) > (seqs[2] as number), 'seqs keep growing');
  again.close();
});

test('a batch stops at the byte budget, but always holds one event', async () => {
  const box = new ForwardOutbox(await file());
  box.add({ text: 'x'.repeat(1000) });
  box.add({ text: 'y'.repeat(1000) });
  assert.equal(box.peek(10, 1500).length, 1);
  assert.equal(box.peek(10, 10).length, 1, 'one oversized event still goes');
  box.close();
});

test('past its bound the oldest events go, counted, and the newest stay', async () => {
  const box = new ForwardOutbox(await file(), { maxBytes: 10_000 });
  for (let n = 1; n <= 100; n++) box.add({ n, pad: 'p'.repeat(200) });
  const { events, bytes, dropped } = box.stats;
  assert.ok(bytes <= 10_000, `kept ${bytes} bytes`);
  assert.equal(events + dropped, 100);
  assert.ok(dropped > 0);
  const kept = box.peek(1000, 1 << 20).map((e) => JSON.parse(e.body).n);
  assert.equal(kept.at(-1), 100, 'the newest is kept');
  assert.deepEqual(
    kept,
    Array.from({ length: kept.length }, (_, i) => 101 - kept.length + i),
  );
  box.close();
});
