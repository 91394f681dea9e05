import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { AgentBook } from '../../core/agents/book.ts';
import { DEFAULT_PRICES, mergePrices, type PriceTable } from '../../core/agents/prices.ts';
import { AgentCheckpoint } from './checkpoint.ts';
import { AgentJournal, type JournalEntry } from './journal.ts';
import { AgentOffsets, type AgentSink, AgentTranscripts } from './transcripts.ts';

/** Where coding agents write, and where their state is kept (see `serve --claude-dir`). */
export interface AgentSourcesConfig {
  claudeDirs: string[];
  codexDirs: string[];
  /** A price file laid over the shipped table. */
  pricesFile: string | null;
  /** The checkpoint file; null keeps nothing (every start reads the transcripts again). */
  checkpointPath: string | null;
}

/** The agents engine as the transcripts see it. */
export interface AgentStateSink extends AgentSink {
  readonly book: AgentBook;
  readonly changes: number;
  replaceBook(book: AgentBook): void;
}

/** The shipped price table, with `file` laid over it; a bad file fails start-up with its reason. */
export function loadPrices(file: string | null): PriceTable {
  if (file === null) return DEFAULT_PRICES;
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read the price file ${file}: ${(error as Error).message}`);
  }
  try {
    return mergePrices(DEFAULT_PRICES, value);
  } catch (error) {
    throw new Error(`the price file ${file} is not valid: ${(error as Error).message}`);
  }
}

/** How often a changed state is checkpointed. */
const SAVE_MS = 10_000;

/**
 * Starts following the agents' transcripts into `sink`: restores the last
 * checkpoint (state and offsets together), reads what was appended since,
 * then keeps following and checkpointing. Resolves once the transcripts on
 * disk have been read.
 */
export async function startAgentTranscripts(opts: {
  config: AgentSourcesConfig;
  sink: AgentStateSink;
  prices: PriceTable;
  logger: Logger;
  pollMs?: number;
}): Promise<{
  transcripts: AgentTranscripts;
  /**
   * Journals forwarded agent events already applied (call it in the tick they
   * were): resolves once they are on disk, what the forward ingest waits for
   * before it acknowledges them. Without a checkpoint, resolves at once.
   */
  journal(entries: JournalEntry[]): Promise<void>;
  stop(): Promise<void>;
}> {
  const { config, sink, logger } = opts;
  const checkpoint = config.checkpointPath
    ? new AgentCheckpoint(config.checkpointPath, logger)
    : null;
  const saved = checkpoint ? await checkpoint.load(opts.prices) : null;
  if (saved) sink.replaceBook(saved.book);
  const journal = config.checkpointPath ? new AgentJournal(config.checkpointPath, logger) : null;
  // What forwarders were acknowledged for after that checkpoint, in order.
  for (const entry of journal ? await journal.replay(saved?.journal ?? -1) : []) {
    if ('reset' in entry) sink.resetFile(entry.reset);
    else sink.apply(entry.event, entry.file);
  }
  const offsets = new AgentOffsets(saved?.offsets ?? []);
  const transcripts = new AgentTranscripts({
    claudeDirs: config.claudeDirs,
    codexDirs: config.codexDirs,
    sink,
    offsets,
    logger,
    ...(opts.pollMs ? { pollMs: opts.pollMs } : {}),
  });
  let savedAt = saved ? sink.changes : -1;
  let saving: Promise<void> | null = null;
  const save = async () => {
    if (!checkpoint || saving || sink.changes === savedAt) return;
    savedAt = sink.changes;
    // The capture and the rotation in one tick: later journal appends are past this checkpoint.
    const covered = journal ? journal.rotate() : -1;
    saving = checkpoint
      .save(sink.book, offsets.list(), covered)
      .then(async (written) => {
        if (written && journal) await journal.drop(covered);
      })
      .finally(() => {
        saving = null;
      });
    await saving;
  };
  await transcripts.start();
  await save();
  const timer = setInterval(() => void save(), SAVE_MS);
  timer.unref();
  return {
    transcripts,
    journal: (entries) => journal?.append(entries) ?? Promise.resolve(),
    stop: async () => {
      clearInterval(timer);
      await transcripts.stop();
      await saving;
      await save();
    },
  };
}
