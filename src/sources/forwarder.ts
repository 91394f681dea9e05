import type { Logger } from 'pino';
import type { AgentEvent } from '../core/agents/events.ts';
import { metricsSink } from '../core/metrics/inputs.ts';
import type { PlanSourceEvent } from '../core/plans/types.ts';
import {
  FORWARD_EVENT_DEPTH,
  FORWARD_WIRE_VERSION,
  FORWARDER_HEADER,
  type ForwardAck,
  type ForwardedEvent,
  MAX_FORWARD_PARALLEL_TEXT,
  MAX_FORWARD_PLAN_FILES,
  MAX_FORWARD_PLAN_TEXT,
} from '../shared/forward.ts';
import { jsonValueTooDeep } from '../shared/json-depth.ts';
import { AgentTranscripts, type TranscriptOffsets } from './agents/transcripts.ts';
import { ForwardClient } from './forward-http.ts';
import { ForwardOutbox } from './forward-outbox.ts';
import { JsonlLogHandler, ProjectMetricsHandler } from './metrics-files.ts';
import { SessionFilesHandler } from './phase-files.ts';
import { PlanFoldersSource } from './plans/folders.ts';
import { RootWatcher } from './watcher.ts';

export interface ForwarderOptions {
  /** The central server's base URL. */
  to: string;
  token: string | null;
  roots: string[];
  /** The machine's name on the dashboard. */
  host: string;
  outboxPath: string;
  outboxMaxBytes?: number;
  logger: Logger;
  pollMs?: number | null;
  /** The coding agents' folders to follow (as `serve --claude-dir/--codex-dir`); null: none. */
  agents?: { claudeDirs: string[]; codexDirs: string[] } | null;
  /** How long plan-file changes are coalesced before the folder is read (default 150 ms). */
  planDebounceMs?: number;
  /** Largest batch sent (bytes, about); the server takes up to 4 MiB. */
  batchBytes?: number;
  /** Longest wait between attempts while the server is unreachable. */
  maxBackoffMs?: number;
}

export interface ForwarderStats {
  queued: number;
  queuedBytes: number;
  dropped: number;
  /** Events the server acknowledged since start. */
  sent: number;
  /** Whether the last attempt reached the server and was accepted. */
  connected: boolean;
  lastError: string | null;
}

const BATCH_EVENTS = 500;

/**
 * `livestream forward`: the sources `serve` uses (phase files, checkpoints,
 * JSONL logs, project metric files, plan folders, Claude Code and Codex
 * transcripts), their events queued in a durable
 * outbox and sent in order to a central server, each batch until it is
 * acknowledged. While the server is away, events wait on disk (bounded);
 * when it is back they go in order, and the server's ingest drops what it
 * already has, so a batch resent after a lost answer changes nothing.
 */
export class Forwarder {
  readonly #o: ForwarderOptions;
  readonly #outbox: ForwardOutbox;
  readonly #http: ForwardClient;
  readonly #watcher: RootWatcher;
  readonly #handlers: { close(): void }[];
  readonly #plans: PlanFoldersSource;
  readonly #agents: AgentTranscripts | null;
  /** The plan folders the server was told of, by id: sent again when the server restarts. */
  readonly #planDirs = new Map<string, string>();
  #serverBoot: string | null = null;
  #sent = 0;
  #connected = false;
  #lastError: string | null = null;
  #stopped = false;
  #wake: (() => void) | null = null;
  #loop: Promise<void> = Promise.resolve();
  #drainWaiters: (() => void)[] = [];

  constructor(options: ForwarderOptions) {
    this.#o = options;
    this.#http = new ForwardClient(`${options.to}/api/forward`);
    this.#outbox = new ForwardOutbox(options.outboxPath, {
      ...(options.outboxMaxBytes ? { maxBytes: options.outboxMaxBytes } : {}),
    });
    const sessionFiles = new SessionFilesHandler((event) =>
      this.#queue({ source: 'session', event } as ForwardedEvent),
    );
    // Queued means durable: the tails may move their offsets on at once.
    const sink = metricsSink((event) => {
      this.#queue({ source: 'metrics', event } as ForwardedEvent);
      return true;
    });
    const projectFiles = new ProjectMetricsHandler(sink);
    this.#plans = new PlanFoldersSource((event) => this.#queuePlan(event), {
      logger: options.logger,
      ...(options.planDebounceMs === undefined ? {} : { debounceMs: options.planDebounceMs }),
    });
    this.#handlers = [sessionFiles, projectFiles, this.#plans];
    this.#agents = options.agents ? this.#agentTranscripts(options.agents) : null;
    this.#watcher = new RootWatcher({
      roots: options.roots,
      handlers: [
        sessionFiles,
        new JsonlLogHandler(sink, this.#outbox),
        projectFiles,
        ...this.#plans.handlers(),
      ],
      logger: options.logger,
      ...(options.pollMs ? { pollMs: options.pollMs } : {}),
    });
  }

  /** The outbox's id (the server keys its high-water mark by it). */
  get id(): string {
    return this.#outbox.id;
  }

  get stats(): ForwarderStats {
    const box = this.#outbox.stats;
    return {
      queued: box.events,
      queuedBytes: box.bytes,
      dropped: box.dropped,
      sent: this.#sent,
      connected: this.#connected,
      lastError: this.#lastError,
    };
  }

  async start(): Promise<void> {
    this.#loop = this.#send();
    await this.#watcher.start();
    await this.#plans.idle();
    await this.#agents?.start();
  }

  /** Resolves once the outbox is empty (everything acknowledged). */
  drained(): Promise<void> {
    if (this.#outbox.stats.events === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#watcher.stop();
    await this.#agents?.stop();
    for (const handler of this.#handlers) handler.close();
    this.#wake?.();
    await this.#loop;
    this.#http.close();
    this.#outbox.close();
  }

  /**
   * Transcripts read into the outbox: their events queued as they are parsed,
   * their offsets kept in the outbox file beside them (so after a crash the
   * tail re-reads at most what was not queued), under their own prefix.
   */
  #agentTranscripts(dirs: { claudeDirs: string[]; codexDirs: string[] }): AgentTranscripts {
    const box = this.#outbox;
    const key = (path: string) => `agent:${path}`;
    const offsets: TranscriptOffsets = {
      async getOffset(path) {
        const saved = await box.getOffset(key(path));
        return saved ? { ...saved, path } : null;
      },
      setOffset: (offset) => box.setOffset({ ...offset, path: key(offset.path) }),
      delete: (path) => box.deleteOffset(key(path)),
    };
    return new AgentTranscripts({
      claudeDirs: dirs.claudeDirs,
      codexDirs: dirs.codexDirs,
      offsets,
      logger: this.#o.logger,
      sink: {
        apply: (event: AgentEvent, file: string | null) =>
          this.#queue({
            source: 'agents',
            event: { kind: 'event', file, event },
          } as ForwardedEvent),
        resetFile: (file: string) =>
          this.#queue({ source: 'agents', event: { kind: 'reset', file } }),
      },
      ...(this.#o.pollMs ? { pollMs: this.#o.pollMs } : {}),
    });
  }

  /**
   * The server keeps plans in memory only: a new server process has none of
   * this machine's, so every plan folder is read and sent again (builds and
   * agents are in its store and checkpoint).
   */
  #onBoot(boot: string | null): void {
    if (boot === null || boot === this.#serverBoot) return;
    const restarted = this.#serverBoot !== null;
    this.#serverBoot = boot;
    if (!restarted) return;
    this.#o.logger.info(
      { plans: this.#planDirs.size },
      'forward: server restarted; plans sent again',
    );
    for (const dir of this.#planDirs.values()) this.#plans.touch(dir);
  }

  /** A plan read, its texts cut to what a batch carries (said in its warnings). */
  #queuePlan(event: PlanSourceEvent): void {
    if (event.type === 'synced') {
      // The scan at start is complete: the plans it found are all this machine has.
      this.#queue({ source: 'plans', event: { type: 'synced', ids: [...this.#planDirs.keys()] } });
      return;
    }
    if (event.type === 'gone') {
      this.#planDirs.delete(event.id);
      this.#queue({ source: 'plans', event });
      return;
    }
    const input = { ...event.input };
    this.#planDirs.set(input.id, input.path);
    const warnings = [...(input.readWarnings ?? [])];
    if (input.planText !== null && input.planText.length > MAX_FORWARD_PLAN_TEXT) {
      input.planText = input.planText.slice(0, MAX_FORWARD_PLAN_TEXT);
      warnings.push(`${input.planFile}: cut to ${MAX_FORWARD_PLAN_TEXT} characters to forward it`);
    }
    if (input.parallelText !== null && input.parallelText.length > MAX_FORWARD_PARALLEL_TEXT) {
      // Cut JSON is no JSON: the plan is shown without its parallel plan rather than refused.
      input.parallelText = null;
      warnings.push(`parallel.json: over ${MAX_FORWARD_PARALLEL_TEXT} characters; not forwarded`);
    }
    if (input.files.length > MAX_FORWARD_PLAN_FILES) {
      // The newest count most (what moved last); the plan is shown from them, and says so.
      input.files = [...input.files]
        .sort((x, y) => y.mtimeMs - x.mtimeMs)
        .slice(0, MAX_FORWARD_PLAN_FILES);
      warnings.push(`over ${MAX_FORWARD_PLAN_FILES} files; the newest forwarded`);
    }
    if (warnings.length > 0) input.readWarnings = warnings.slice(0, 200);
    this.#queue({ source: 'plans', event: { type: 'plan', input } } as ForwardedEvent);
  }

  #queue(event: ForwardedEvent): void {
    if (this.#stopped) return;
    if (jsonValueTooDeep(event, FORWARD_EVENT_DEPTH)) {
      // The server would refuse the whole batch around it; the event alone goes.
      this.#o.logger.warn(
        { source: event.source, kind: 'kind' in event.event ? event.event.kind : undefined },
        'forward: event nests too deep to send; dropped',
      );
      return;
    }
    // A JSONL batch's `persist` is a function: JSON leaves it out.
    this.#outbox.add(event);
    this.#wake?.();
  }

  async #send(): Promise<void> {
    let backoffMs = 0;
    let batchBytes = this.#o.batchBytes ?? 512 * 1024;
    const maxBackoffMs = this.#o.maxBackoffMs ?? 10_000;
    while (!this.#stopped) {
      const entries = this.#outbox.peek(BATCH_EVENTS, batchBytes);
      if (entries.length === 0) {
        for (const resolve of this.#drainWaiters.splice(0)) resolve();
        await this.#sleep(null);
        // A moment before the batch, so a build's step (its phase file, log lines, metrics:
        // four or five files, read a few ms apart) goes as one batch rather than one each.
        await new Promise((resolve) => setTimeout(resolve, LINGER_MS));
        continue;
      }
      const box = this.#outbox.stats;
      const body = `{"version":${FORWARD_WIRE_VERSION},"forwarder":${JSON.stringify(this.#outbox.id)},"host":${JSON.stringify(this.#o.host)},"dropped":${box.dropped},"events":[${entries
        .map((e) => `{"seq":${e.seq},"event":${e.body}}`)
        .join(',')}]}`;
      let failure: string;
      let retryAfterMs = 0;
      /** The server answered (refused, busy, rate-limited), as against not being reached. */
      let answered = false;
      try {
        const response = await this.#http.post(
          body,
          {
            [FORWARDER_HEADER]: this.#outbox.id,
            ...(this.#o.token ? { authorization: `Bearer ${this.#o.token}` } : {}),
          },
          30_000,
        );
        if (response.status >= 200 && response.status < 300) {
          const ack = JSON.parse(response.text) as ForwardAck;
          this.#outbox.ack(ack.acked);
          this.#onBoot(ack.boot ?? null);
          this.#sent += entries.filter((e) => e.seq <= ack.acked).length;
          if (!this.#connected) this.#o.logger.info({ to: this.#o.to }, 'forward: connected');
          this.#connected = true;
          this.#lastError = null;
          backoffMs = 0;
          continue;
        }
        const text = response.text;
        answered = true;
        failure = `HTTP ${response.status}: ${messageOf(text)}`;
        if (response.location) {
          const base = response.location.replace(/\/api\/forward\/?$/, '');
          failure += ` (redirected to ${response.location}: use --to ${base})`;
        }
        // Rate-limited or busy: the server says when to come back; sooner would be refused again.
        retryAfterMs = retryAfter(response.retryAfter);
        if (response.status === 413 && batchBytes > 16 * 1024) {
          batchBytes = Math.floor(batchBytes / 2);
          continue;
        }
        if (response.status === 400) {
          // The server refuses the envelope itself: resending it cannot help, and would block the rest.
          this.#o.logger.error(
            { failure, events: entries.length },
            'forward: batch refused; dropped',
          );
          this.#outbox.ack(entries.at(-1)?.seq ?? 0);
          continue;
        }
      } catch (error) {
        failure = (error as Error).cause
          ? String(((error as Error).cause as Error).message ?? (error as Error).cause)
          : (error as Error).message;
      }
      if (this.#connected || this.#lastError !== failure) {
        this.#o.logger.warn(
          { to: this.#o.to, failure, queued: box.events },
          answered
            ? 'forward: the server did not take the batch; events wait in the outbox'
            : 'forward: server unreachable; events wait in the outbox',
        );
      }
      this.#connected = false;
      this.#lastError = failure;
      backoffMs = Math.min(maxBackoffMs, Math.max(250, backoffMs * 2));
      await this.#sleep(Math.max(backoffMs, Math.min(retryAfterMs, 60_000)));
    }
  }

  /**
   * Waits `ms` (or, with null, for the next queued event); `stop()` ends either
   * wait. The idle wait holds a long timer: the forwarder's only handle when
   * the watcher is quiet, so the process stays up, woken once an hour.
   */
  #sleep(ms: number | null): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms ?? 3_600_000);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      // While backing off, new events do not shorten the wait; stop does.
      this.#wake = ms === null ? done : () => (this.#stopped ? done() : undefined);
    });
  }
}

/**
 * How long the sender waits, once woken from idle, for the rest of what is
 * being written. Measured on one forwarder replaying 10 demo builds: batches
 * 480 → 155 and its CPU 1.3× less (the server's work per batch falls the
 * same 3×), for 3 ms more on the first change after a quiet spell; a sender
 * already busy (a batch in flight) never waits.
 */
const LINGER_MS = 3;

function messageOf(text: string): string {
  try {
    const body = JSON.parse(text) as { message?: unknown };
    if (typeof body.message === 'string') return body.message;
  } catch {
    // Not JSON: the text itself, shortened.
  }
  return text.slice(0, 200);
}

/** `Retry-After` in ms: seconds or an HTTP date; 0 when absent or unreadable. */
export function retryAfter(value: string | null, now = Date.now()): number {
  if (value === null || value.trim() === '') return 0;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? 0 : Math.max(0, at - now);
}
