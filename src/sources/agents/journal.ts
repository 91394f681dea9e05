import { appendFile, readdir, readFile, rm } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { Logger } from 'pino';
import type { AgentInput } from '../../core/agents/events.ts';

/** One forwarded agent input: an event (with its transcript) or a transcript taken back. */
export type JournalEntry = AgentInput;

/**
 * Agent events a server took from forwarders since its last agents
 * checkpoint, appended before they are acknowledged: an acknowledgement costs
 * one small append instead of a whole checkpoint. Files are numbered by
 * generation; a checkpoint records the generation it covers, so at start only
 * the later ones are replayed (none twice), and it removes the ones it covers.
 */
export class AgentJournal {
  readonly #base: string;
  readonly #log: Logger;
  #gen = 0;

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

  /** Appends `entries` to the current generation; call it in the tick they were applied. */
  append(entries: JournalEntry[]): Promise<void> {
    if (entries.length === 0) return Promise.resolve();
    return appendFile(
      `${this.#base}${this.#gen}`,
      entries.map((e) => `${JSON.stringify(e)}\n`).join(''),
    );
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
