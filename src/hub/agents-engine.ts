import { AgentBook, type AgentBookStats } from '../core/agents/book.ts';
import type { AgentEvent } from '../core/agents/events.ts';
import type { PriceTable } from '../core/agents/prices.ts';
import { detail, summarize } from '../core/agents/view.ts';
import {
  type AgentDetail,
  type AgentSummary,
  type AgentTotals,
  totalTokens,
} from '../shared/agents.ts';
import { hostOfPath } from '../shared/forward.ts';
import type { SessionDetail } from '../shared/model.ts';
import { topic } from '../shared/topics.ts';
import type { Hub } from './types.ts';

export interface AgentsEngineOptions {
  hub: Hub;
  prices: PriceTable;
  /** The machine local agent sessions run on; a forwarded one's comes from its `/@host/` folder. */
  host?: string;
}

/** The Context Foundry phase a folder's build was in at a moment, or null (no build there then). */
export type PhaseAt = (cwd: string, at: number) => string | null;

/** What `buildPhases` reads of the builds: the session engine's lookups. */
export interface BuildLookup {
  keyForProject(projectDir: string): string | null;
  get(key: string): SessionDetail | null;
}

/**
 * The phase of the build whose project folder is `cwd` or one of its parents
 * (an agent may work in a subfolder), from the build's timeline: the entry
 * that had begun at `at` and had not ended.
 */
export function buildPhases(builds: BuildLookup): PhaseAt {
  return (cwd, at) => {
    let dir = cwd.replace(/[\\/]+$/, '');
    for (let depth = 0; dir !== '' && depth < 32; depth++) {
      const key = builds.keyForProject(dir);
      if (key !== null) {
        const timeline = builds.get(key)?.timeline ?? [];
        for (let i = timeline.length - 1; i >= 0; i--) {
          const entry = timeline[i];
          if (entry && entry.startedAt <= at && (entry.endedAt === null || at < entry.endedAt))
            return entry.phase;
        }
        return null;
      }
      const up = dir.replace(/[\\/][^\\/]*$/, '');
      if (up === dir) break;
      dir = up;
    }
    return null;
  };
}

/**
 * Coding-agent sessions in the hub: sources hand it agent events through
 * `apply`; it keeps them in an `AgentBook` and publishes `agents` (a summary
 * per session) and `agent:<id>` (the detail). Events applied in one tick are
 * published together, so a burst of transcript lines is one delta per topic.
 */
export class AgentsEngine {
  readonly #hub: Hub;
  #book: AgentBook;
  readonly #dirty = new Set<string>();
  readonly #summaries = new Map<string, AgentSummary>();
  #scheduled: NodeJS.Immediate | null = null;
  /** Bumped on every change: what a checkpoint compares to know it has something to save. */
  #changes = 0;
  #phaseAt: PhaseAt | null = null;
  readonly #host: string | null;

  constructor(opts: AgentsEngineOptions) {
    this.#hub = opts.hub;
    this.#book = new AgentBook(opts.prices);
    this.#host = opts.host ?? null;
  }

  get book(): AgentBook {
    return this.#book;
  }

  get stats(): AgentBookStats {
    return this.#book.stats;
  }

  get changes(): number {
    return this.#changes;
  }

  /** Names the build phase of each response from now on (see `buildPhases`). */
  phasesFrom(phaseAt: PhaseAt): void {
    this.#phaseAt = phaseAt;
  }

  /** Applies one event (from `file` when it was read from a transcript). */
  apply(event: AgentEvent, file: string | null = null): void {
    let e = event;
    if (e.type === 'response' && e.phase === undefined && this.#phaseAt) {
      const cwd = this.#book.sessions.get(e.sessionId)?.cwd;
      const phase = cwd ? this.#phaseAt(cwd, e.at) : null;
      if (phase !== null) e = { ...e, phase };
    }
    const id = this.#book.apply(e, file);
    if (id !== null) this.#mark(id);
  }

  /** A transcript was rewritten or truncated: takes back what it counted before it is read again. */
  resetFile(file: string): void {
    for (const id of this.#book.resetFile(file)) this.#mark(id);
  }

  /** Replaces the whole state (a checkpoint loaded at start-up) and publishes it. */
  replaceBook(book: AgentBook): void {
    for (const id of this.#book.sessions.keys()) {
      if (!book.sessions.has(id)) this.#hub.remove(topic('agent', id));
    }
    this.#book = book;
    this.#summaries.clear();
    for (const id of book.sessions.keys()) this.#dirty.add(id);
    this.flush();
  }

  /** Drops sessions idle since before `before` (retention). */
  forget(before: number): string[] {
    const gone = this.#book.forget(before);
    for (const id of gone) {
      this.#summaries.delete(id);
      this.#dirty.delete(id);
      this.#hub.remove(topic('agent', id));
    }
    if (gone.length > 0) this.#publishList();
    return gone;
  }

  list(): AgentSummary[] {
    this.flush();
    return [...this.#summaries.values()].sort((a, b) => b.lastAt - a.lastAt);
  }

  get(id: string): AgentDetail | null {
    const s = this.#book.sessions.get(id);
    return s ? detail(s) : null;
  }

  totals(): AgentTotals {
    const t: AgentTotals = {
      sessions: 0,
      byState: { working: 0, waiting: 0, idle: 0, ended: 0 },
      costUsd: 0,
      tokens: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 },
      toolCalls: 0,
      toolErrors: 0,
      byPhase: {},
    };
    for (const s of this.list()) {
      for (const p of s.phases) {
        const row = t.byPhase[p.phase] ?? { costUsd: 0, tokens: 0 };
        t.byPhase[p.phase] = row;
        row.costUsd += p.costUsd;
        row.tokens += totalTokens(p.usage);
      }
      t.sessions++;
      t.byState[s.state]++;
      t.costUsd += s.costUsd;
      t.tokens.input += s.usage.input;
      t.tokens.output += s.usage.output;
      t.tokens.cacheRead += s.usage.cacheRead;
      t.tokens.cacheWrite += s.usage.cacheWrite5m + s.usage.cacheWrite1h;
      t.toolCalls += s.toolCalls;
      t.toolErrors += s.toolErrors;
    }
    return t;
  }

  /** Publishes what changed since the last flush (also run on the next tick by itself). */
  flush(): void {
    if (this.#scheduled) {
      clearImmediate(this.#scheduled);
      this.#scheduled = null;
    }
    if (this.#dirty.size === 0) return;
    for (const id of this.#dirty) {
      const s = this.#book.sessions.get(id);
      if (!s) continue;
      const summary = summarize(s);
      const host = hostOfPath(s.cwd) ?? this.#host;
      this.#summaries.set(id, host === null ? summary : { ...summary, host });
      this.#hub.set(topic('agent', id), detail(s));
    }
    this.#dirty.clear();
    this.#publishList();
  }

  close(): void {
    this.flush();
  }

  #publishList(): void {
    this.#hub.set(topic('agents'), { agents: Object.fromEntries(this.#summaries) });
  }

  #mark(id: string): void {
    this.#changes++;
    this.#dirty.add(id);
    if (!this.#scheduled) this.#scheduled = setImmediate(() => this.flush());
  }
}
