import { type FileHandle, open, readdir, readFile, rm } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { Logger } from 'pino';
import type { AgentInput } from '../../core/agents/events.ts';

/** One forwarded agent input: an event (with its transcript) or a transcript taken back. */
export type JournalEntry = AgentInput;

/** Appends made while a write is on disk, written (and synced) together after it. */
interface Batch {
  gen: number;
  text: string[];
  done: Promise<void>;
}

/**
 * Agent events a server took from forwarders since its last agents
 * checkpoint, appended before they are acknowledged: an acknowledgement costs
 * one small append instead of a whole checkpoint. Files are numbered by
 * generation; a checkpoint records the generation it covers, so at start only
 * the later ones are replayed (none twice), and it removes the ones it covers.
 *
 * An append resolves once it is on the disk itself (`fdatasync`), not in the
 * page cache only: an acknowledged event survives a power cut, not just a
 * kill -9. Appends that come while one is being synced share the next sync,
 * so many forwarders cost one sync per round, not one each.
 */
export class AgentJournal {
  readonly #base: string;
  readonly #log: Logger;
  #gen = 0;
  #batch: Batch | null = null;
  #tail: Promise<void> = Promise.resolve();
  #file: { gen: number; handle: FileHandle } | null = null;

  constructor(checkpointPath: string, logger: Logger) {
    this.#base = `${checkpointPath}.journal.`;
    this.#log = logger;
  }

  /** The entries of the generations after `covered`, in order; later appends go past them. */
  async replay(covered: number): Promise<JournalEntry[]> {
    const gens = await this.#gens();
    const entries: JournalEntry[] = [];
    for (const gen of gens.filter((g) => g > covered)) {
      const text = await readFile(`${this.#base}${gen}`, 'utf8');
      for (const line of text.split('\n')) {
        if (line === '') continue;
        try {
          entries.push(JSON.parse(line) as JournalEntry);
        } catch {
          // A line cut short by a crash was never acknowledged.
          this.#log.warn({ gen }, 'agents journal: a cut line skipped');
        }
      }
    }
    this.#gen = Math.max(covered, ...gens) + 1;
    return entries;
  }

  /**
   * Appends `entries` to the current generation (call it in the tick they
   * were applied); resolves once they are synced to disk.
   */
  append(entries: readonly JournalEntry[]): Promise<void> {
    if (entries.length === 0) return Promise.resolve();
    const text = entries.map((e) => `${JSON.stringify(e)}\n`).join('');
    const waiting = this.#batch;
    if (waiting && waiting.gen === this.#gen) {
      waiting.text.push(text);
      return waiting.done;
    }
    const batch: Batch = { gen: this.#gen, text: [text], done: Promise.resolve() };
    this.#batch = batch;
    batch.done = this.#tail.then(() => {
      // From here on, appends wait for the next batch: this one's text is fixed.
      if (this.#batch === batch) this.#batch = null;
      return this.#write(batch.gen, batch.text.join(''));
    });
    this.#tail = batch.done.catch(() => undefined);
    return batch.done;
  }

  /** Called as a checkpoint captures the state: returns the generation it covers. */
  rotate(): number {
    return this.#gen++;
  }

  /** The checkpoint covering `gen` is on disk: its generations go. */
  async drop(gen: number): Promise<void> {
    for (const g of await this.#gens()) {
      if (g <= gen) await rm(`${this.#base}${g}`, { force: true });
    }
  }

  /** Waits for the appends in flight, then closes the open generation's file. */
  async close(): Promise<void> {
    await this.#tail;
    await this.#closeFile();
  }

  async #write(gen: number, text: string): Promise<void> {
    if (this.#file?.gen !== gen) {
      await this.#closeFile();
      const path = `${this.#base}${gen}`;
      this.#file = { gen, handle: await open(path, 'a') };
      // The new file's name must reach the disk too, or a power cut could lose the whole file.
      await syncDir(dirname(path));
    }
    await this.#file.handle.appendFile(text);
    await this.#file.handle.datasync();
  }

  async #closeFile(): Promise<void> {
    const file = this.#file;
    this.#file = null;
    await file?.handle.close();
  }

  async #gens(): Promise<number[]> {
    const prefix = basename(this.#base);
    let names: string[];
    try {
      names = await readdir(dirname(this.#base));
    } catch {
      return [];
    }
    return names
      .filter((n) => n.startsWith(prefix) && /^\d+$/.test(n.slice(prefix.length)))
      .map((n) => Number(n.slice(prefix.length)))
      .sort((a, b) => a - b);
  }
}

/** Makes a folder's entries (a file created or renamed in it) durable. */
export async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
