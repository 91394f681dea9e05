import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { AgentBook } from '../../core/agents/book.ts';
import { DEFAULT_PRICES, mergePrices, type PriceTable } from '../../core/agents/prices.ts';
import type { AgentStateStore } from '../../store/types.ts';
import type { JournalEntry } from './journal.ts';
import { AgentOffsets, type AgentSink, AgentTranscripts } from './transcripts.ts';

/** Where coding agents write, and where their state is kept (see `serve --claude-dir`). */
export interface AgentSourcesConfig {
  claudeDirs: string[];
  codexDirs: string[];
  /** A price file laid over the shipped table. */
  pricesFile: string | null;
  /**
   * The checkpoint file, when the state is kept in files (a SQLite history:
   * `FileAgentState`); null keeps nothing (every start reads the transcripts
   * again). A PostgreSQL history keeps the state in the database instead.
   */
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
 * checkpoint from `state` (book and offsets together) and the forwarded
 * inputs journaled after it, reads what the transcripts gained since, then
 * keeps following and checkpointing. Resolves once the transcripts on disk
 * have been read. `state` null keeps nothing.
 */
export async function startAgentTranscripts(opts: {
  config: AgentSourcesConfig;
  state: AgentStateStore | null;
  sink: AgentStateSink;
  prices: PriceTable;
  logger: Logger;
  pollMs?: number;
}): Promise<{
  transcripts: AgentTranscripts;
  /**
   * Journals forwarded agent events already applied (call it in the tick they
   * were): resolves once they are durable, what the forward ingest waits for
   * before it acknowledges them. Without a state store, resolves at once.
   */
  journal(entries: JournalEntry[]): Promise<void>;
  stop(): Promise<void>;
}> {
  const { config, sink, logger, state } = opts;
  const saved = state ? await state.load(opts.prices) : null;
  if (saved) sink.replaceBook(saved.book);
  // What forwarders were acknowledged for after that checkpoint, in order.
  for (const entry of state ? await state.replay(saved?.journal ?? -1) : []) {
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
    if (!state || saving || sink.changes === savedAt) return;
    savedAt = sink.changes;
    // The capture and the rotation in one tick: later journal appends are past this checkpoint.
    const covered = state.rotate();
    saving = state
      .save(sink.book, offsets.list(), covered)
      .then((written) => {
        // Not saved: the next round tries again (the journal still holds what it covers).
        if (!written && savedAt === sink.changes) savedAt = -1;
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
    journal: (entries) => state?.append(entries) ?? Promise.resolve(),
    stop: async () => {
      clearInterval(timer);
      await transcripts.stop();
      await saving;
      await save();
      await state?.close();
    },
  };
}
