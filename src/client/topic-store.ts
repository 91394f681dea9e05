import { applyPatch } from '../shared/json-patch.ts';
import type { DeltaMessage, SnapshotMessage } from '../shared/protocol.ts';

/** What the client holds of one topic. Replaced (never mutated) on every change. */
export interface TopicEntry<T = unknown> {
  /** Null when the topic does not exist on the server (yet). */
  data: T | null;
  version: number;
  /** Local clock (epoch ms) when this state arrived. */
  receivedAt: number;
}

/** Counters of what the client did with incoming messages (tests, debug views). */
export interface ClientStats {
  snapshots: number;
  /** Deltas applied. */
  applied: number;
  /** Deltas ignored because they were already applied. */
  duplicates: number;
  /** Deltas that did not follow the held version (the topic was re-subscribed). */
  gaps: number;
  resyncs: number;
  resumes: number;
}

interface TopicRecord {
  refs: number;
  entry: TopicEntry | undefined;
  /** Seq of the last snapshot or delta applied to this topic. */
  seq: number;
  /** Deltas are ignored until a snapshot arrives (after a gap or a resync). */
  awaitingSnapshot: boolean;
}

export type DeltaOutcome = 'applied' | 'duplicate' | 'gap' | 'ignored';

function isRootReplace(delta: DeltaMessage): boolean {
  if (delta.op !== 'patch' || delta.patch.length !== 1) return false;
  const op = delta.patch[0];
  return op?.op === 'replace' && op.path === '';
}

/**
 * The topics a client wants and the state it holds for them, with the
 * protocol's ordering rules: a delta applies only on top of `version - 1`
 * and above the topic's last seq; a root replace is self-contained.
 */
export class TopicStore {
  readonly stats: ClientStats = {
    snapshots: 0,
    applied: 0,
    duplicates: 0,
    gaps: 0,
    resyncs: 0,
    resumes: 0,
  };
  readonly #records = new Map<string, TopicRecord>();
  /** Highest seq applied: where a resume starts. */
  lastSeq = 0;

  /** Adds a reference; true when the topic is newly wanted. */
  retain(name: string): boolean {
    const record = this.#records.get(name);
    if (record) {
      record.refs++;
      return false;
    }
    this.#records.set(name, { refs: 1, entry: undefined, seq: 0, awaitingSnapshot: true });
    return true;
  }

  /** Drops a reference; true when nobody wants the topic any more (its data is dropped). */
  release(name: string): boolean {
    const record = this.#records.get(name);
    if (!record) return false;
    if (--record.refs > 0) return false;
    this.#records.delete(name);
    return true;
  }

  wanted(): string[] {
    return [...this.#records.keys()];
  }

  entry(name: string): TopicEntry | undefined {
    return this.#records.get(name)?.entry;
  }

  entries(): Record<string, TopicEntry> {
    const out: Record<string, TopicEntry> = {};
    for (const [name, record] of this.#records) if (record.entry) out[name] = record.entry;
    return out;
  }

  /** Topics held (with their versions) that can be resumed. */
  resumable(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, record] of this.#records) {
      if (record.entry && !record.awaitingSnapshot) out[name] = record.entry.version;
    }
    return out;
  }

  /** Marks topics as needing a snapshot: their deltas are ignored until then. */
  invalidate(names: Iterable<string>): void {
    for (const name of names) {
      const record = this.#records.get(name);
      if (record) record.awaitingSnapshot = true;
    }
  }

  /** A new epoch: seqs of the old one mean nothing. */
  resetSeq(): void {
    this.lastSeq = 0;
    for (const record of this.#records.values()) record.seq = 0;
  }

  /** Returns whether the snapshot changed what the client holds. */
  applySnapshot(message: SnapshotMessage, now: number): boolean {
    const record = this.#records.get(message.topic);
    if (!record) return false;
    record.entry = { data: message.data, version: message.version, receivedAt: now };
    record.seq = message.seq;
    record.awaitingSnapshot = false;
    if (message.seq > this.lastSeq) this.lastSeq = message.seq;
    this.stats.snapshots++;
    return true;
  }

  applyDelta(delta: DeltaMessage, now: number): DeltaOutcome {
    const record = this.#records.get(delta.topic);
    if (!record?.entry || record.awaitingSnapshot) return 'ignored';
    const held = record.entry;
    const reset = isRootReplace(delta);
    if (delta.seq <= record.seq || (!reset && delta.version <= held.version)) {
      this.stats.duplicates++;
      return 'duplicate';
    }
    if (!reset && delta.version !== held.version + 1) return this.#gap(record);
    let data: unknown;
    if (delta.op === 'patch') {
      try {
        data = applyPatch(held.data, delta.patch);
      } catch {
        return this.#gap(record);
      }
    } else {
      const lines = (held.data as { lines?: unknown[] } | null)?.lines ?? [];
      const merged = lines.concat(delta.items);
      const cap = Math.max(0, delta.cap);
      data = { ...(held.data as object), lines: merged.slice(Math.max(0, merged.length - cap)) };
    }
    record.entry = { data, version: delta.version, receivedAt: now };
    record.seq = delta.seq;
    if (delta.seq > this.lastSeq) this.lastSeq = delta.seq;
    this.stats.applied++;
    return 'applied';
  }

  #gap(record: TopicRecord): DeltaOutcome {
    record.awaitingSnapshot = true;
    this.stats.gaps++;
    return 'gap';
  }
}
