import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import { claudeAssistant, claudePrompt } from '../../../test/helpers/agent-transcripts.ts';
import { AgentBook } from '../../core/agents/book.ts';
import { parseClaudeLine } from '../../core/agents/claude.ts';
import { DEFAULT_PRICES } from '../../core/agents/prices.ts';
import { toSnapshot } from '../../core/agents/snapshot.ts';
import { AgentCheckpoint } from './checkpoint.ts';

const T0 = Date.parse('2026-01-10T09:00:00Z');

function feed(book: AgentBook, sessionId: string, values: object[]): void {
  for (const v of values) {
    const { events } = parseClaudeLine(v, { sessionId, agentId: null, now: T0 });
    for (const e of events) book.apply(e, `/p/${sessionId}.jsonl`);
  }
}

test('a checkpoint rewrites only the sessions that changed, and always says what the book holds', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ls-agents-checkpoint-'));
  const checkpoint = new AgentCheckpoint(join(dir, 'h.db.agents.json'), pino({ level: 'silent' }));
  const book = new AgentBook(DEFAULT_PRICES);
  const ids = ['s-one', 's-two', 's-three'];
  for (const [i, id] of ids.entries()) {
    feed(book, id, [
      claudePrompt({ sessionId: id, at: T0 + i }, `prompt ${i}`),
      claudeAssistant(
        { sessionId: id, at: T0 + i + 1 },
        { messageId: `m${i}`, requestId: `r${i}`, usage: { input: 10, output: 5 } },
      ),
    ]);
  }
  const saved = async () => JSON.parse(await readFile(checkpoint.path, 'utf8'));
  const expected = () =>
    JSON.parse(JSON.stringify({ book: toSnapshot(book), offsets: [], journal: -1 }));
  try {
    await checkpoint.save(book, []);
    assert.deepEqual(await saved(), expected());
    // One session moves; the others' kept text is reused and the file is still the whole book.
    feed(book, 's-two', [
      claudeAssistant(
        { sessionId: 's-two', at: T0 + 50 },
        { messageId: 'm9', requestId: 'r9', usage: { input: 99, output: 7 } },
      ),
    ]);
    book.resetFile('/p/s-three.jsonl');
    await checkpoint.save(book, []);
    assert.deepEqual(await saved(), expected());
    const restored = await checkpoint.load(DEFAULT_PRICES);
    assert.equal(restored?.book.sessions.get('s-two')?.totals().responses, 2);
    assert.equal(restored?.book.sessions.get('s-three')?.totals().responses, 0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
