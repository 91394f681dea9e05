import { basename, join } from 'node:path';
import type { Logger } from 'pino';
import { claudeFileOf, parseClaudeLine } from '../../core/agents/claude.ts';
import { CodexRolloutParser, codexSessionIdOf } from '../../core/agents/codex.ts';
import type { AgentEvent } from '../../core/agents/events.ts';
import type { TailOffset } from '../../store/types.ts';
import { JsonlTail } from '../jsonl-tail.ts';
import type { FileEvent, FileHandler } from '../types.ts';
import { RootWatcher } from '../watcher.ts';

/** Where agent events go: the agents engine, seen from a source. */
export interface AgentSink {
  apply(event: AgentEvent, file: string | null): void;
  resetFile(file: string): void;
}

/** Where a transcript's read offsets are kept: the checkpoint's (serve) or the forwarder's outbox. */
export interface TranscriptOffsets {
  getOffset(path: string): Promise<TailOffset | null>;
  setOffset(offset: TailOffset): Promise<void>;
  delete(path: string): void;
}

/** Offsets of the tailed transcripts, saved with the state they produced (see `AgentCheckpoint`). */
export class AgentOffsets implements TranscriptOffsets {
  readonly #map = new Map<string, TailOffset>();

  constructor(saved: TailOffset[] = []) {
    for (const o of saved) this.#map.set(o.path, o);
  }

  async getOffset(path: string): Promise<TailOffset | null> {
    return this.#map.get(path) ?? null;
  }

  async setOffset(o: TailOffset): Promise<void> {
    this.#map.set(o.path, { ...o });
  }

  delete(path: string): void {
    this.#map.delete(path);
  }

  list(): TailOffset[] {
    return [...this.#map.values()];
  }
}

export interface AgentTranscriptsOptions {
  /** Claude Code configuration folders (each holds `projects/`). */
  claudeDirs: string[];
  /** Codex home folders (each holds `sessions/`). */
  codexDirs: string[];
  sink: AgentSink;
  offsets: TranscriptOffsets;
  logger: Logger;
  pollMs?: number;
  /** Files read at once during the first scan: memory stays bounded by this × the tail's buffers. */
  concurrency?: number;
  now?: () => number;
}

export interface AgentTranscriptStats {
  files: number;
  lines: number;
  /** Lines that were not JSON (cut short, garbage). */
  invalid: number;
  oversized: number;
  /** Lines of a type the parsers do not know (a newer agent version): skipped. */
  unknown: number;
  resets: number;
}

interface Followed {
  tail: JsonlTail;
  parse(value: unknown, now: number): { events: AgentEvent[]; unknownType?: string };
  reset(): void;
}

/**
 * Follows every Claude Code transcript (`<claude>/projects/<project>/<session>.jsonl`
 * and `…/<session>/subagents/agent-<id>.jsonl`) and Codex rollout
 * (`<codex>/sessions/**\/rollout-*.jsonl`), incrementally from saved offsets,
 * and hands their lines to the sink as agent events. A rewritten or truncated
 * file is taken back and read again; a deleted one keeps what it said.
 */
export class AgentTranscripts {
  readonly stats: AgentTranscriptStats = {
    files: 0,
    lines: 0,
    invalid: 0,
    oversized: 0,
    unknown: 0,
    resets: 0,
  };
  readonly #o: AgentTranscriptsOptions;
  readonly #files = new Map<string, Followed>();
  readonly #claudeRoots: Set<string>;
  readonly #watcher: RootWatcher;
  readonly #unknownTypes = new Set<string>();
  #active = 0;
  readonly #queue: (() => void)[] = [];

  constructor(opts: AgentTranscriptsOptions) {
    this.#o = opts;
    const claudeRoots = opts.claudeDirs.map((d) => join(d, 'projects'));
    this.#claudeRoots = new Set(claudeRoots);
    const handler: FileHandler = {
      name: 'agent-transcripts',
      match: (rel) => rel.endsWith('.jsonl'),
      handle: (event) => this.#handle(event),
    };
    this.#watcher = new RootWatcher({
      roots: [...claudeRoots, ...opts.codexDirs.map((d) => join(d, 'sessions'))],
      handlers: [handler],
      logger: opts.logger,
      ...(opts.pollMs ? { pollMs: opts.pollMs } : {}),
    });
  }

  get roots(): string[] {
    return [...this.#claudeRoots, ...this.#o.codexDirs.map((d) => join(d, 'sessions'))];
  }

  /** Resolves once every transcript on disk has been read. */
  start(): Promise<void> {
    return this.#watcher.start();
  }

  stop(): Promise<void> {
    return this.#watcher.stop();
  }

  async #handle(event: FileEvent): Promise<void> {
    if (event.kind === 'unlink') {
      // The session stays as it was; a file of the same name later starts from 0.
      this.#files.delete(event.path);
      this.#o.offsets.delete(event.path);
      return;
    }
    let followed = this.#files.get(event.path);
    if (!followed) {
      const made = this.#follow(event);
      if (!made) return;
      followed = made;
      this.#files.set(event.path, followed);
      this.stats.files++;
    }
    await this.#limit(() => this.#poll(event.path, followed));
  }

  async #poll(path: string, f: Followed): Promise<void> {
    const r = await f.tail.poll();
    this.stats.lines += r.lines;
    this.stats.invalid += r.invalid;
    this.stats.oversized += r.oversized;
    if (r.invalid + r.oversized + r.tooDeep > 0) {
      this.#o.logger.warn(
        { path, invalid: r.invalid, oversized: r.oversized, tooDeep: r.tooDeep },
        'skipped transcript lines that are not JSON, too long or too deeply nested',
      );
    }
  }

  #follow(event: FileEvent): Followed | null {
    const now = this.#o.now ?? Date.now;
    const { sink } = this.#o;
    const path = event.path;
    let parse: Followed['parse'];
    let reset = () => {};
    if (this.#claudeRoots.has(event.root)) {
      const rel = path
        .slice(event.root.length + 1)
        .split('\\')
        .join('/');
      const where = claudeFileOf(rel);
      if (!where) return null;
      const ctx = { sessionId: where.sessionId, agentId: where.agentId };
      parse = (value, at) => parseClaudeLine(value, { ...ctx, now: at });
    } else {
      if (!basename(path).startsWith('rollout-')) return null;
      const parser = new CodexRolloutParser(codexSessionIdOf(basename(path)) ?? basename(path));
      parse = (value, at) => parser.parse(value, at);
      reset = () => parser.reset();
    }
    const tail = new JsonlTail({
      path,
      offsets: this.#o.offsets,
      onBatch: (batch) => {
        const at = now();
        for (const value of batch.values) {
          const { events, unknownType } = parse(value, at);
          if (unknownType) this.#unknown(unknownType);
          for (const e of events) sink.apply(e, path);
        }
        return true;
      },
      onReset: (reason) => {
        this.stats.resets++;
        this.#o.logger.info({ path, reason }, 'transcript rewritten; reading it again');
        reset();
        sink.resetFile(path);
      },
    });
    return { tail, parse, reset };
  }

  #unknown(type: string): void {
    this.stats.unknown++;
    if (this.#unknownTypes.has(type) || this.#unknownTypes.size > 100) return;
    this.#unknownTypes.add(type);
    this.#o.logger.info({ type }, 'transcript line type not known; skipped');
  }

  /** Runs at most `concurrency` file reads at once (the first scan finds thousands). */
  async #limit(run: () => Promise<void>): Promise<void> {
    const max = this.#o.concurrency ?? 2;
    if (this.#active >= max) await new Promise<void>((go) => this.#queue.push(go));
    this.#active++;
    try {
      await run();
    } finally {
      this.#active--;
      this.#queue.shift()?.();
    }
  }
}
