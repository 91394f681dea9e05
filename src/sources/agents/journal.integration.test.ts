import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import pino from 'pino';
import type { AgentEvent } from '../../core/agents/events.ts';
import { AgentJournal } from './journal.ts';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});
const logger = pino({ level: 'silent' });
const prompt = (text: string): AgentEvent => ({
  agent: 'claude',
  sessionId: 's@ci-1',
  agentId: null,
  at: 1,
  source: 'transcript',
  type: 'prompt',
  text,
});

test('the journal replays only what the last checkpoint does not cover, once, and skips a cut line', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'livestream-journal-'));
  dirs.push(dir);
  const path = join(dir, 'h.db.agents.json');
  const journal = new AgentJournal(path, logger);
  assert.deepEqual(await journal.replay(-1), []);
  await journal.append([{ file: '/@ci-1/a.jsonl', event: prompt('one') }]);
  // A checkpoint captures here: it covers `one`; `two` comes after it.
  const covered = journal.rotate();
  await journal.append([
    { file: '/@ci-1/a.jsonl', event: prompt('two') },
    { reset: '/@ci-1/b.jsonl' },
  ]);

  // A crash before the checkpoint's write: it said nothing covered; both replay, in order.
  const texts = (entries: Awaited<ReturnType<AgentJournal['replay']>>) =>
    entries.map((e) => ('reset' in e ? `reset ${e.reset}` : (e.event as { text: string }).text));
  assert.deepEqual(texts(await new AgentJournal(path, logger).replay(-1)), [
    'one',
    'two',
    'reset /@ci-1/b.jsonl',
  ]);
  // The checkpoint written (covering `one`) but the crash before its generations went: not twice.
  assert.deepEqual(texts(await new AgentJournal(path, logger).replay(covered)), [
    'two',
    'reset /@ci-1/b.jsonl',
  ]);
  await journal.drop(covered);
  assert.deepEqual(await readdir(dir), [`h.db.agents.json.journal.${covered + 1}`]);

  await appendFile(join(dir, `h.db.agents.json.journal.${covered + 1}`), '{"file":null,"ev');
  const again = new AgentJournal(path, logger);
  assert.deepEqual(texts(await again.replay(covered)), ['two', 'reset /@ci-1/b.jsonl']);
  // Later appends go past what was replayed.
  await again.append([{ file: null, event: prompt('three') }]);
  assert.deepEqual(texts(await new AgentJournal(path, logger).replay(covered + 1)), ['three']);
  await journal.close();
  await again.close();
});
