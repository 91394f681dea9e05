import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import type { AgentBook } from '../../core/agents/book.ts';
import type { PriceTable } from '../../core/agents/prices.ts';
import type { AgentSessionState } from '../../core/agents/session.ts';
import { fromSnapshot, SNAPSHOT_HEAD, sessionJson } from '../../core/agents/snapshot.ts';
import type { SavedAgentState, TailOffset } from '../../store/types.ts';
import { syncDir } from './journal.ts';

/**
 * The agents' state and the transcript offsets it was built from, saved
 * together in one file (written to a temporary name, synced, then renamed):
 * after a crash or a power cut both are from the same moment, so a restart
 * neither skips nor re-counts a line.
 */
const COMMA = Buffer.from(',');

export class AgentCheckpoint {
  readonly path: string;
  readonly #log: Logger;
  /** By session object: a book replaced (a checkpoint loaded) has new ones. */
  readonly #pieces = new WeakMap<AgentSessionState, { version: number; text: Buffer }>();

  constructor(path: string, logger: Logger) {
    this.path = path;
    this.#log = logger;
  }

  /** The saved book and offsets; null when there is none or it cannot be used. */
  async load(prices: PriceTable): Promise<SavedAgentState | null> {
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
      const value = JSON.parse(text) as {
        book?: unknown;
        offsets?: TailOffset[];
        journal?: number;
      };
      const book = fromSnapshot(prices, value.book);
      if (!book || !Array.isArray(value.offsets))
        throw new Error('not a checkpoint of this version');
      return {
        book,
        offsets: value.offsets,
        journal: typeof value.journal === 'number' ? value.journal : -1,
      };
    } catch (error) {
      this.#log.warn(
        { path: this.path, err: (error as Error).message },
        'agents checkpoint unusable; reading transcripts from scratch',
      );
      return null;
    }
  }

  /**
   * Both are captured in the same tick, so they agree (with `journal`, the
   * forwarded events' journal generation they cover); the write happens
   * after; true once it is on disk, synced (the journal it covers may then
   * go). Each session's text is kept (UTF-8, outside the V8 heap) until the
   * session changes: a save every 10 s serialises the sessions that moved,
   * not a month of them, so the event loop (hooks waiting on it) barely stalls.
   */
  async save(book: AgentBook, offsets: readonly TailOffset[], journal = -1): Promise<boolean> {
    const text: Buffer[] = [Buffer.from(`{"book":${SNAPSHOT_HEAD}`)];
    let first = true;
    for (const s of book.sessions.values()) {
      let kept = this.#pieces.get(s);
      if (!kept || kept.version !== s.version) {
        kept = { version: s.version, text: Buffer.from(sessionJson(s)) };
        this.#pieces.set(s, kept);
      }
      if (!first) text.push(COMMA);
      text.push(kept.text);
      first = false;
    }
    text.push(Buffer.from(`]},"offsets":${JSON.stringify(offsets)},"journal":${journal}}`));
    const tmp = `${this.path}.${process.pid}.tmp`;
    try {
      await mkdir(dirname(this.path), { recursive: true });
      const file = await open(tmp, 'w');
      try {
        await file.writeFile(text);
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(tmp, this.path);
      await syncDir(dirname(this.path));
      return true;
    } catch (error) {
      this.#log.warn(
        { path: this.path, err: (error as Error).message },
        'cannot save the agents checkpoint',
      );
      await rm(tmp, { force: true });
      return false;
    }
  }
}
