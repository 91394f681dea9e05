import { appendFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import pino from 'pino';
import type { AgentInput } from '../src/core/agents/events.ts';
import { AgentJournal } from '../src/sources/agents/journal.ts';
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
    return figures;
  } finally {
    await journal.close();
    await rm(dir, { recursive: true, force: true });
  }
}
