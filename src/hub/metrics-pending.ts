import type { Logger } from 'pino';
import type { AgentUpdate } from '../core/metrics/agents.ts';
import type { EventLine } from '../core/metrics/events.ts';
import type { DecisionFile, MetricsFileProblem, TestResultsFile } from '../core/metrics/inputs.ts';
import type { TokenReading } from '../core/metrics/tokens.ts';

/**
 * Unknown sessions whose inputs are held at once; the oldest is dropped past
 * this. With the per-owner caps below, the worst case stays around 100 MB
 * (it was several GB with 256 owners of 200,000 readings).
 */
const MAX_PENDING_OWNERS = 64;
/** Token readings held for one unknown session (a long session log, read before its phase file). */
export const MAX_PENDING_READINGS = 20_000;
/** Agent updates, events and problems held for one unknown session. */
export const MAX_PENDING_ITEMS = 2_000;

/** Inputs for a session that is not known yet, replayed when it appears. */
export interface Pending {
  readings: { reading: TokenReading; receivedAt: number }[];
  /** Indexes into `readings` where the session log was read again from its start. */
  resets: number[];
  sessionLogSeen: boolean;
  agents: { update: AgentUpdate; at: number }[];
  events: EventLine[];
  tests: Map<number, TestResultsFile>;
  decisions: Map<string, DecisionFile>;
  problems: MetricsFileProblem[];
  persists: Set<() => Promise<void>>;
  dropped: number;
}

function newPending(): Pending {
  return {
    readings: [],
    resets: [],
    sessionLogSeen: false,
    agents: [],
    events: [],
    tests: new Map(),
    decisions: new Map(),
    problems: [],
    persists: new Set(),
    dropped: 0,
  };
}

/** Keeps the newest `cap` items; with `keepOldest`, drops new items instead (readings, whose indexes mark resets). */
export function pushBounded<T>(
  list: T[],
  item: T,
  cap: number,
  pending: Pending,
  keepOldest = false,
): void {
  if (list.length >= cap) {
    pending.dropped++;
    if (keepOldest) return;
    list.shift();
  }
  list.push(item);
}

/**
 * Inputs of sessions that are not known yet, keyed `id:<session id>` or
 * `dir:<project folder>`: bounded in owners and in items, nothing saved.
 */
export class PendingInputs {
  readonly #byOwner = new Map<string, Pending>();
  readonly #log: Logger;

  constructor(log: Logger) {
    this.#log = log;
  }

  /** The inputs held for `owner`, created (evicting the oldest owner when full). */
  for(owner: string): Pending {
    let pending = this.#byOwner.get(owner);
    if (!pending) {
      if (this.#byOwner.size >= MAX_PENDING_OWNERS) {
        const oldest = this.#byOwner.keys().next().value as string;
        this.#byOwner.delete(oldest);
        this.#log.warn({ owner: oldest }, 'too many unknown sessions; dropped held metrics');
      }
      pending = newPending();
      this.#byOwner.set(owner, pending);
    }
    return pending;
  }

  get(owner: string): Pending | undefined {
    return this.#byOwner.get(owner);
  }

  delete(owner: string): void {
    this.#byOwner.delete(owner);
  }
}
