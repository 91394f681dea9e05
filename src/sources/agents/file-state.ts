import type { Logger } from 'pino';
import type { AgentBook } from '../../core/agents/book.ts';
import type { AgentInput } from '../../core/agents/events.ts';
import type { PriceTable } from '../../core/agents/prices.ts';
import type { AgentStateStore, SavedAgentState, TailOffset } from '../../store/types.ts';
import { AgentCheckpoint } from './checkpoint.ts';
import { AgentJournal } from './journal.ts';

/**
 * The agents' state in files beside a SQLite database: the checkpoint at
 * `path` (`<db>.agents.json`) and the journal's generations at
 * `<path>.journal.<n>`. One machine's disk: a replica taking over elsewhere
 * does not see them (PostgreSQL keeps them for replicas: `PostgresAgentState`).
 */
export class FileAgentState implements AgentStateStore {
  readonly location: string;
  readonly #checkpoint: AgentCheckpoint;
  readonly #journal: AgentJournal;

  constructor(path: string, logger: Logger) {
    this.location = path;
    this.#checkpoint = new AgentCheckpoint(path, logger);
    this.#journal = new AgentJournal(path, logger);
  }

  load(prices: PriceTable): Promise<SavedAgentState | null> {
    return this.#checkpoint.load(prices);
  }

  replay(covered: number): Promise<AgentInput[]> {
    return this.#journal.replay(covered);
  }

  append(entries: readonly AgentInput[]): Promise<void> {
    return this.#journal.append(entries);
  }

  rotate(): number {
    return this.#journal.rotate();
  }

  async save(book: AgentBook, offsets: readonly TailOffset[], covered: number): Promise<boolean> {
    const written = await this.#checkpoint.save(book, offsets, covered);
    // Only once the checkpoint holding them is on disk: a crash between leaves both, read once.
    if (written) await this.#journal.drop(covered);
    return written;
  }

  close(): Promise<void> {
    return this.#journal.close();
  }
}
