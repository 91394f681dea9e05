import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { AgentBook } from '../../core/agents/book.ts';
import { DEFAULT_PRICES, mergePrices, type PriceTable } from '../../core/agents/prices.ts';
import { AgentCheckpoint } from './checkpoint.ts';
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
   * Resolves once a checkpoint holding every change made before the call is
   * on disk (saves shared by concurrent callers): what the forward ingest
   * waits for before it acknowledges agent events.
   */
  saveNow(): Promise<void>;
  stop(): Promise<void>;
}> {
  const { config, sink, logger } = opts;
  const checkpoint = config.checkpointPath
    ? new AgentCheckpoint(config.checkpointPath, logger)
    : null;
  const saved = checkpoint ? await checkpoint.load(opts.prices) : null;
  if (saved) sink.replaceBook(saved.book);
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
    saving = checkpoint.save(sink.book, offsets.list()).finally(() => {
      saving = null;
    });
    await saving;
  };
  const saveNow = async () => {
    if (!checkpoint) return;
    const target = sink.changes;
    while (savedAt < target) {
      if (saving) await saving;
      else await save();
    }
    // A capture with those changes is taken (`savedAt` moves at capture); its write may still run.
    await saving;
  };
  await transcripts.start();
  await save();
  const timer = setInterval(() => void save(), SAVE_MS);
  timer.unref();
  return {
    transcripts,
    saveNow,
    stop: async () => {
      clearInterval(timer);
      await transcripts.stop();
      await saving;
      await save();
    },
  };
}
