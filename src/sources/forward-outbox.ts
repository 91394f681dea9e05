import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import type { TailOffset } from '../store/types.ts';

/** Default bound of the outbox: about a day of a busy build's events. */
export const DEFAULT_OUTBOX_BYTES = 64 * 1024 * 1024;

/** One queued event: its place in this forwarder's order and its JSON text. */
export interface OutboxEntry {
  seq: number;
  body: string;
}

export interface OutboxStats {
  events: number;
  bytes: number;
  /** Events dropped, oldest first, because the outbox was full (since it was created). */
  dropped: number;
}

/**
 * `livestream forward`'s durable queue: a SQLite file holding the events not
 * yet acknowledged by the server, in order, with the JSONL tails' and agent
 * transcripts' byte offsets beside them. An event is committed here before the tail's offset
 * moves, so a crash re-reads at most what was not queued yet; it leaves only
 * once the server acknowledged it.
 *
 * Bounded by bytes: past the bound the oldest events are dropped (counted in
 * `stats.dropped`, which the server is told), so a machine cut off for days
 * keeps its newest state instead of filling its disk.
 */
export class ForwardOutbox {
  readonly #db: DatabaseSync;
  readonly #maxBytes: number;
  readonly #insert: StatementSync;
  readonly #peek: StatementSync;
  readonly #ack: StatementSync;
  readonly #getOffset: StatementSync;
  readonly #setOffset: StatementSync;
  #bytes: number;
  #events: number;
  #dropped: number;
  /** Names this outbox's event stream for the server's idempotent ingest; kept in the file. */
  readonly id: string;

  constructor(path: string, opts: { maxBytes?: number } = {}) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.#db = new DatabaseSync(path);
    this.#db.exec('PRAGMA journal_mode = WAL');
    this.#db.exec('PRAGMA synchronous = NORMAL');
    this.#db.exec('PRAGMA busy_timeout = 5000');
    this.#db.exec(`
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        body TEXT NOT NULL,
        bytes INTEGER NOT NULL
      );
      CREATE TABLE IF NOT EXISTS tail_offsets (
        path TEXT PRIMARY KEY, offset INTEGER NOT NULL, ino INTEGER NOT NULL, size INTEGER NOT NULL
      );
    `);
    this.#maxBytes = opts.maxBytes ?? DEFAULT_OUTBOX_BYTES;
    this.#db.prepare("INSERT OR IGNORE INTO meta VALUES ('id', ?)").run(crypto.randomUUID());
    this.#db.prepare("INSERT OR IGNORE INTO meta VALUES ('dropped', '0')").run();
    this.id = this.#meta('id');
    this.#dropped = Number(this.#meta('dropped'));
    const totals = this.#db
      .prepare('SELECT count(*) AS n, coalesce(sum(bytes), 0) AS b FROM outbox')
      .get() as { n: number; b: number };
    this.#events = totals.n;
    this.#bytes = totals.b;
    this.#insert = this.#db.prepare('INSERT INTO outbox (body, bytes) VALUES (?, ?) RETURNING seq');
    this.#peek = this.#db.prepare('SELECT seq, body, bytes FROM outbox ORDER BY seq LIMIT ?');
    this.#ack = this.#db.prepare('DELETE FROM outbox WHERE seq <= ? RETURNING bytes');
    this.#getOffset = this.#db.prepare(
      'SELECT path, offset, ino, size FROM tail_offsets WHERE path = ?',
    );
    this.#setOffset = this.#db.prepare(
      'INSERT INTO tail_offsets VALUES (?, ?, ?, ?) ON CONFLICT(path) DO UPDATE SET offset = excluded.offset, ino = excluded.ino, size = excluded.size',
    );
  }

  /** Queues an event (committed when this returns); returns its seq. */
  add(event: unknown): number {
    const body = JSON.stringify(event);
    const bytes = Buffer.byteLength(body);
    const row = this.#insert.get(body, bytes) as { seq: number };
    this.#events++;
    this.#bytes += bytes;
    if (this.#bytes > this.#maxBytes) this.#trim();
    return row.seq;
  }

  /** The oldest queued events, in order, up to `maxEvents` and about `maxBytes`. */
  peek(maxEvents: number, maxBytes: number): OutboxEntry[] {
    const out: OutboxEntry[] = [];
    let size = 0;
    for (const row of this.#peek.all(maxEvents) as { seq: number; body: string; bytes: number }[]) {
      if (out.length > 0 && size + row.bytes > maxBytes) break;
      out.push({ seq: row.seq, body: row.body });
      size += row.bytes;
    }
    return out;
  }

  /** The server has every event up to `seq`: they leave. */
  ack(seq: number): void {
    const gone = this.#ack.all(seq) as { bytes: number }[];
    this.#events -= gone.length;
    for (const row of gone) this.#bytes -= row.bytes;
  }

  get stats(): OutboxStats {
    return { events: this.#events, bytes: this.#bytes, dropped: this.#dropped };
  }

  async getOffset(path: string): Promise<TailOffset | null> {
    const row = this.#getOffset.get(path) as TailOffset | undefined;
    return row ? { path: row.path, offset: row.offset, ino: row.ino, size: row.size } : null;
  }

  async setOffset(offset: TailOffset): Promise<void> {
    this.#setOffset.run(offset.path, offset.offset, offset.ino, offset.size);
  }

  deleteOffset(path: string): void {
    this.#db.prepare('DELETE FROM tail_offsets WHERE path = ?').run(path);
  }

  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }

  #meta(key: string): string {
    return (this.#db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string })
      .value;
  }

  /** Drops the oldest events until the outbox is under 90 % of its bound. */
  #trim(): void {
    const target = this.#maxBytes * 0.9;
    const rows = this.#db
      .prepare('SELECT seq, bytes FROM outbox ORDER BY seq')
      .iterate() as Iterable<{ seq: number; bytes: number }>;
    let upTo = 0;
    let freed = 0;
    let n = 0;
    for (const row of rows) {
      if (this.#bytes - freed <= target) break;
      upTo = row.seq;
      freed += row.bytes;
      n++;
    }
    if (n === 0) return;
    this.ack(upTo);
    this.#dropped += n;
    this.#db.prepare("UPDATE meta SET value = ? WHERE key = 'dropped'").run(String(this.#dropped));
  }
}
