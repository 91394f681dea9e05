import type { FileHandle } from 'node:fs/promises';
import { jsonTextTooDeep } from '../shared/json-depth.ts';
import type { SessionStore } from '../store/types.ts';
import { openNoFollow } from './read-file.ts';

/** Complete lines read from a JSONL file, parsed, in file order. */
export interface TailBatch {
  values: unknown[];
  /** Byte offset just after the last line of the batch. */
  endOffset: number;
}

import type { TailReset } from '../core/metrics/inputs.ts';

export type { TailReset };

/** What one `poll()` consumed. */
export interface TailResult {
  /** Lines parsed and delivered. */
  lines: number;
  /** Lines that were not valid JSON (cut short, garbage): skipped. */
  invalid: number;
  /** Lines longer than `maxLineBytes`: skipped without being held in memory. */
  oversized: number;
  /** Lines nesting deeper than `MAX_JSON_DEPTH`: skipped before parsing (every later walk would overflow the stack). */
  tooDeep: number;
  /** Set when the file was replaced or shrank and was read again from its start. */
  reset: TailReset | null;
  offset: number;
}

export interface JsonlTailOptions {
  path: string;
  offsets: Pick<SessionStore, 'getOffset' | 'setOffset'>;
  /**
   * Receives each batch; resolve `true` once its lines are durably accounted,
   * so the offset after them can be saved. `false` keeps the offset in memory
   * only (a restart re-reads those lines) until `persist()`.
   */
  onBatch(batch: TailBatch): boolean | Promise<boolean>;
  /** Called before a replaced or truncated file is read again from its start. */
  onReset?(reason: TailReset): void | Promise<void>;
  /** Read size; memory stays bounded by this plus `maxLineBytes` plus `batchBytes`. */
  chunkBytes?: number;
  maxLineBytes?: number;
  /** Bytes of lines handed over per batch (and per saved offset). */
  batchBytes?: number;
}

const EMPTY = (offset: number): TailResult => ({
  lines: 0,
  invalid: 0,
  oversized: 0,
  tooDeep: 0,
  reset: null,
  offset,
});

/**
 * Follows an append-only JSONL file from a saved byte offset. Only complete
 * lines are consumed: a partial last line waits for its newline. Rotation (a
 * new inode) and truncation (the file is shorter than the offset) restart
 * from the beginning. Polls never overlap: a poll asked for while one runs
 * makes it go round once more.
 */
export class JsonlTail {
  readonly path: string;
  readonly #o: Required<Omit<JsonlTailOptions, 'onReset'>> & Pick<JsonlTailOptions, 'onReset'>;
  #loaded = false;
  #offset = 0;
  #ino: number | null = null;
  #size = 0;
  /** Inside an oversized line that reached the end of the file: skip to its newline. */
  #skipping = false;
  /** The in-memory offset is ahead of the saved one. */
  #unsaved = false;
  /** A batch was not durable: nothing is saved until `persist()` says it now is. */
  #held = false;
  #running: Promise<TailResult> | null = null;
  #again = false;

  constructor(options: JsonlTailOptions) {
    this.path = options.path;
    this.#o = {
      chunkBytes: 64 * 1024,
      maxLineBytes: 1024 * 1024,
      batchBytes: 1024 * 1024,
      ...options,
    };
  }

  get offset(): number {
    return this.#offset;
  }

  /**
   * Reads everything new; resolves with what was consumed. A poll that joins
   * a read in flight resolves when it is done with zero counts: the poll that
   * started it reports them, so a burst of change events (a slow writer of one
   * long line) reports each skipped line once, not once per event.
   */
  poll(): Promise<TailResult> {
    if (this.#running) {
      this.#again = true;
      return this.#running.then((r) => EMPTY(r.offset));
    }
    const run = async (): Promise<TailResult> => {
      const total = EMPTY(this.#offset);
      do {
        this.#again = false;
        const r = await this.#read();
        total.lines += r.lines;
        total.invalid += r.invalid;
        total.oversized += r.oversized;
        total.tooDeep += r.tooDeep;
        total.reset = r.reset ?? total.reset;
        total.offset = r.offset;
      } while (this.#again);
      return total;
    };
    this.#running = run().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  /** Saves the in-memory offset once the lines of batches that were not durable are accounted. */
  async persist(): Promise<void> {
    this.#held = false;
    await this.#save();
  }

  async #save(): Promise<void> {
    if (!this.#unsaved || this.#ino === null) return;
    this.#unsaved = false;
    await this.#o.offsets.setOffset({
      path: this.path,
      offset: this.#offset,
      ino: this.#ino,
      size: this.#size,
    });
  }

  async #read(): Promise<TailResult> {
    if (!this.#loaded) {
      const saved = await this.#o.offsets.getOffset(this.path);
      if (saved) {
        this.#offset = saved.offset;
        this.#ino = saved.ino;
        this.#size = saved.size;
      }
      this.#loaded = true;
    }
    let fh: FileHandle;
    try {
      fh = await openNoFollow(this.path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return EMPTY(this.#offset);
      if (code === 'ELOOP') {
        throw new Error(
          `${this.path} is a symbolic link; links are not followed, so it is not read`,
        );
      }
      throw error;
    }
    try {
      return await this.#follow(fh);
    } finally {
      await fh.close();
    }
  }

  async #follow(fh: FileHandle): Promise<TailResult> {
    const st = await fh.stat();
    if (!st.isFile()) throw new Error(`${this.path} is not a regular file; it is not read`);
    const result = EMPTY(this.#offset);
    if (this.#ino !== null && st.ino !== this.#ino) result.reset = 'rotated';
    else if (st.size < this.#offset) result.reset = 'truncated';
    if (result.reset) {
      this.#offset = 0;
      this.#skipping = false;
      await this.#o.onReset?.(result.reset);
    }
    this.#ino = st.ino;
    this.#size = st.size;

    const { chunkBytes, maxLineBytes, batchBytes } = this.#o;
    const buf = Buffer.allocUnsafe(chunkBytes);
    let pos = this.#offset;
    /** Bytes of the line being assembled across chunks. */
    let parts: Buffer[] = [];
    let partBytes = 0;
    let batch: unknown[] = [];
    let batchStart = this.#offset;
    let consumed = this.#offset;

    const flush = async () => {
      if (consumed === this.#offset) return;
      const values = batch;
      batch = [];
      batchStart = consumed;
      const durable =
        values.length === 0 || (await this.#o.onBatch({ values, endOffset: consumed }));
      this.#offset = consumed;
      this.#unsaved = true;
      if (!durable) this.#held = true;
      else if (!this.#held) await this.#save();
    };

    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, chunkBytes, pos);
      if (bytesRead === 0) break;
      const chunk = buf.subarray(0, bytesRead);
      let start = 0;
      for (let nl = chunk.indexOf(10, start); nl !== -1; nl = chunk.indexOf(10, start)) {
        if (this.#skipping) this.#skipping = false;
        else if (partBytes + nl - start > maxLineBytes) result.oversized++;
        else {
          const line =
            partBytes > 0
              ? Buffer.concat([...parts, chunk.subarray(start, nl)])
              : chunk.subarray(start, nl);
          this.#parse(line, batch, result);
        }
        parts = [];
        partBytes = 0;
        start = nl + 1;
        consumed = pos + start;
      }
      if (start < bytesRead && !this.#skipping) {
        if (partBytes + bytesRead - start > maxLineBytes) {
          // Too long to hold: drop what we have and skip to the line's end.
          this.#skipping = true;
          result.oversized++;
          parts = [];
          partBytes = 0;
        } else {
          parts.push(Buffer.from(chunk.subarray(start, bytesRead)));
          partBytes += bytesRead - start;
        }
      }
      pos += bytesRead;
      if (this.#skipping) consumed = pos;
      if (consumed - batchStart >= batchBytes) await flush();
    }
    await flush();
    result.offset = this.#offset;
    return result;
  }

  #parse(line: Buffer, batch: unknown[], result: TailResult): void {
    const text = line.toString('utf8');
    if (text.trim() === '') return;
    if (jsonTextTooDeep(text)) {
      result.tooDeep++;
      return;
    }
    try {
      batch.push(JSON.parse(text));
      result.lines++;
    } catch {
      result.invalid++;
    }
  }
}
