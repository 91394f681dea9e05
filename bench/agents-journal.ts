import { appendFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import pino from 'pino';
import { AgentBook } from '../src/core/agents/book.ts';
import { parseClaudeLine } from '../src/core/agents/claude.ts';
import type { AgentInput } from '../src/core/agents/events.ts';
import { DEFAULT_PRICES } from '../src/core/agents/prices.ts';
import { FileAgentState } from '../src/sources/agents/file-state.ts';
import { AgentJournal } from '../src/sources/agents/journal.ts';
import { PostgresStore } from '../src/store/postgres-store.ts';
import type { AgentStateStore } from '../src/store/types.ts';
import { claudeAssistant, claudePrompt } from '../test/helpers/agent-transcripts.ts';
import { startPostgres } from '../test/helpers/services.ts';
import { percentile, printTable } from './stats.ts';

/**
 * What a durable agents journal costs a forward acknowledgement: the journal
 * as it is (append, then `fdatasync`, appends arriving meanwhile sharing the
 * next sync) against the append it replaced (`appendFile` into the page cache,
 * lost on a power cut), interleaved in one run on the same disk (under
 * bench/results/, the repository's disk: a tmpfs would make a sync free). Sequential: one forwarder waiting for each ack.
 * Concurrent: `FORWARDERS` batches at once, as many build machines send.
 */
const QUICK = process.argv.includes('--quick');
const SEQUENTIAL = QUICK ? 100 : 400;
const ROUNDS = QUICK ? 20 : 60;
const FORWARDERS = 20;
/** Agent events in one forwarded batch. */
const PER_BATCH = 20;

function batch(n: number): AgentInput[] {
  return Array.from({ length: PER_BATCH }, (_, i) => ({
    file: `/@ci-${n % FORWARDERS}/home/dev/.claude/projects/-home-dev-app/s.jsonl`,
    event: {
      agent: 'claude',
      sessionId: `5e55a0e1-0000-4000-8000-${String(n % FORWARDERS).padStart(12, '0')}@ci`,
      agentId: null,
      at: 1_764_800_000_000 + n * PER_BATCH + i,
      source: 'transcript',
      type: 'response',
      key: `msg_${n}_${i}:req_${n}_${i}`,
      model: 'claude-sonnet-4-5-20250929',
      usage: { input: 1200, output: 340, cacheRead: 18_000, cacheWrite5m: 900, cacheWrite1h: 0 },
      stopReason: 'end_turn',
    },
  }));
}

const text = (entries: AgentInput[]) => entries.map((e) => `${JSON.stringify(e)}\n`).join('');

async function timed(run: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await run();
  return performance.now() - start;
}

/** The checkpoint docs/scale-out.md quotes: sessions × responses each. */
const SESSIONS = QUICK ? 200 : 2000;
const RESPONSES = 50;
/** Sessions that moved between two saves (10 s of a busy fleet). */
const MOVED = SESSIONS / 100;

function bookOf(sessions: number): AgentBook {
  const book = new AgentBook(DEFAULT_PRICES);
  const t0 = 1_764_800_000_000;
  for (let s = 0; s < sessions; s++) {
    const sessionId = `0000${s.toString(16).padStart(4, '0')}-1111-4222-8333-444455556666@ci`;
    for (let r = 0; r < RESPONSES; r++) respond(book, sessionId, t0 + s * 1000 + r * 10, r);
  }
  return book;
}

function respond(book: AgentBook, sessionId: string, at: number, r: number): void {
  for (const line of [
    claudePrompt({ sessionId, at }, `step ${r}: refactor the module and run the tests`),
    claudeAssistant(
      { sessionId, at: at + 1 },
      {
        messageId: `msg_${sessionId}_${at}`,
        requestId: `req_${sessionId}_${at}`,
        model: 'claude-sonnet-4-5-20250929',
        usage: { input: 1200, output: 340, cacheRead: 18_000 },
        text: 'done',
      },
    ),
  ]) {
    const { events } = parseClaudeLine(line, { sessionId, agentId: null, now: at });
    for (const e of events) book.apply(e, `/@ci/p/${sessionId}.jsonl`);
  }
}

/**
 * Saving and restoring a whole checkpoint, in files and in PostgreSQL: the
 * first save, a save after `MOVED` sessions changed (files rewrite every
 * session, PostgreSQL only the moved rows), and the load a promoted writer
 * does. The PostgreSQL server is the tests' throwaway one (fsync off): its
 * figures are the work, not a disk's sync.
 */
async function checkpoints(dir: string): Promise<Record<string, number>> {
  const book = bookOf(SESSIONS);
  const pg = await startPostgres();
  const store = await PostgresStore.open(pg.url, { logger: pino({ level: 'silent' }) });
  try {
    const figures: Record<string, number> = {};
    const measure = async (name: string, state: AgentStateStore) => {
      await state.load(DEFAULT_PRICES);
      await state.replay(-1);
      figures[`${name}: first save (ms)`] = await timed(() => state.save(book, [], state.rotate()));
      let s = 0;
      for (const id of [...book.sessions.keys()].slice(0, MOVED)) {
        respond(book, id, 1_764_900_000_000 + s++, RESPONSES);
      }
      figures[`${name}: save after ${MOVED} moved (ms)`] = await timed(() =>
        state.save(book, [], state.rotate()),
      );
      const appends: number[] = [];
      for (let i = 0; i < SEQUENTIAL; i++) appends.push(await timed(() => state.append(batch(i))));
      figures[`${name}: journal append p50 (ms)`] = percentile(appends, 50);
      await state.close();
    };
    await measure(
      'files',
      new FileAgentState(join(dir, 'h.db.agents.json'), pino({ level: 'silent' })),
    );
    await measure('PostgreSQL', store.agentState());
    const fresh = await PostgresStore.open(pg.url, { logger: pino({ level: 'silent' }) });
    let restored = 0;
    figures['PostgreSQL: load, a promoted writer (ms)'] = await timed(async () => {
      restored = (await fresh.agentState().load(DEFAULT_PRICES))?.book.sessions.size ?? 0;
    });
    await fresh.close();
    if (restored !== SESSIONS) throw new Error(`restored ${restored} of ${SESSIONS} sessions`);
    figures['files: load (ms)'] = await timed(() =>
      new FileAgentState(join(dir, 'h.db.agents.json'), pino({ level: 'silent' })).load(
        DEFAULT_PRICES,
      ),
    );
    figures['save after moved, ratio PostgreSQL / files'] =
      (figures[`PostgreSQL: save after ${MOVED} moved (ms)`] ?? 0) /
      (figures[`files: save after ${MOVED} moved (ms)`] ?? 1);
    printTable(
      `agents checkpoint: ${SESSIONS} sessions × ${RESPONSES} responses, ${MOVED} moved`,
      figures,
    );
    return figures;
  } finally {
    await store.close();
    await pg.close();
  }
}

export async function run(): Promise<Record<string, number>> {
  const results = join(import.meta.dirname, 'results');
  await mkdir(results, { recursive: true });
  const dir = await mkdtemp(join(results, 'agents-journal-'));
  const journal = new AgentJournal(join(dir, 'h.db.agents.json'), pino({ level: 'silent' }));
  await journal.replay(-1);
  const plain = join(dir, 'plain.journal');
  try {
    const syncedMs: number[] = [];
    const plainMs: number[] = [];
    for (let i = 0; i < SEQUENTIAL; i++) {
      const entries = batch(i);
      plainMs.push(await timed(() => appendFile(plain, text(entries))));
      syncedMs.push(await timed(() => journal.append(entries)));
    }
    let syncedRoundsMs = 0;
    let plainRoundsMs = 0;
    for (let r = 0; r < ROUNDS; r++) {
      const batches = Array.from({ length: FORWARDERS }, (_, f) => batch(r * FORWARDERS + f));
      plainRoundsMs += await timed(() =>
        Promise.all(batches.map((b) => appendFile(plain, text(b)))),
      );
      syncedRoundsMs += await timed(() => Promise.all(batches.map((b) => journal.append(b))));
    }
    const entries = ROUNDS * FORWARDERS * PER_BATCH;
    const figures = {
      'sequential ack p50, page cache (ms)': percentile(plainMs, 50),
      'sequential ack p50, fdatasync (ms)': percentile(syncedMs, 50),
      'sequential ack p99, page cache (ms)': percentile(plainMs, 99),
      'sequential ack p99, fdatasync (ms)': percentile(syncedMs, 99),
      'sequential p50 ratio, fdatasync / page cache':
        percentile(syncedMs, 50) / percentile(plainMs, 50),
      [`${FORWARDERS} at once, entries/s, page cache`]: (entries / plainRoundsMs) * 1000,
      [`${FORWARDERS} at once, entries/s, fdatasync`]: (entries / syncedRoundsMs) * 1000,
      [`${FORWARDERS} at once, time ratio, fdatasync / page cache`]: syncedRoundsMs / plainRoundsMs,
    };
    printTable(
      `agents journal: ${PER_BATCH} events per batch, ${SEQUENTIAL} sequential, ${ROUNDS} rounds of ${FORWARDERS}`,
      figures,
    );
    return { ...figures, ...(await checkpoints(dir)) };
  } finally {
    await journal.close();
    await rm(dir, { recursive: true, force: true });
  }
}
