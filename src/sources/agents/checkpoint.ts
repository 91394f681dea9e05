import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import type { AgentBook } from '../../core/agents/book.ts';
import type { PriceTable } from '../../core/agents/prices.ts';
import { fromSnapshot, snapshotText } from '../../core/agents/snapshot.ts';
import type { TailOffset } from '../../store/types.ts';

/**
 * The agents' state and the transcript offsets it was built from, saved
 * together in one file (written to a temporary name, then renamed): after a
 * crash both are from the same moment, so a restart neither skips nor
 * re-counts a line.
 */
export class AgentCheckpoint {
  readonly path: string;
  readonly #log: Logger;

  constructor(path: string, logger: Logger) {
    this.path = path;
    this.#log = logger;
  }

  /** The saved book and offsets; null when there is none or it cannot be used. */
  async load(prices: PriceTable): Promise<{ book: AgentBook; offsets: TailOffset[] } | null> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.#log.warn(
          { path: this.path, err: (error as Error).message },
          'cannot read the agents checkpoint; reading transcripts from scratch',
        );
      }
      return null;
    }
    try {
      const value = JSON.parse(text) as { book?: unknown; offsets?: TailOffset[] };
      const book = fromSnapshot(prices, value.book);
      if (!book || !Array.isArray(value.offsets))
        throw new Error('not a checkpoint of this version');
      return { book, offsets: value.offsets };
    } catch (error) {
      this.#log.warn(
        { path: this.path, err: (error as Error).message },
        'agents checkpoint unusable; reading transcripts from scratch',
      );
      return null;
    }
  }

  /**
   * Both are captured in the same tick, so they agree; the write happens
   * after. The text is built one session at a time (see `snapshotText`).
   */
  async save(book: AgentBook, offsets: TailOffset[]): Promise<void> {
    // UTF-8 buffers (outside the V8 heap) as each piece is made: its string is garbage at once.
    const text = [Buffer.from('{"book":')];
    for (const piece of snapshotText(book)) text.push(Buffer.from(piece));
    text.push(Buffer.from(`,"offsets":${JSON.stringify(offsets)}}`));
    const tmp = `${this.path}.${process.pid}.tmp`;
    try {
      await mkdir(dirname(this.path), { recursive: true });
      await writeFile(tmp, text);
      await rename(tmp, this.path);
    } catch (error) {
      this.#log.warn(
        { path: this.path, err: (error as Error).message },
        'cannot save the agents checkpoint',
      );
      await rm(tmp, { force: true });
    }
  }
}
