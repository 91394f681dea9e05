/**
 * The build-session model shared by the server, the web dashboard and the TUI.
 *
 * Every timestamp is epoch milliseconds. Nothing here is derived from "now":
 * elapsed times, ages and "x s ago" are computed by clients from these
 * timestamps, so that an unchanged session serialises to identical JSON and
 * change detection holds.
 */

import type { TemplateId } from './phases.ts';

/** Where a session's current state came from. */
export type SessionSource = 'file' | 'push' | 'checkpoint';

/** Coarse lifecycle used for filtering (`?state=`) and ordering. */
export type SessionState = 'active' | 'completed' | 'failed';

export const SESSION_STATES: readonly SessionState[] = ['active', 'completed', 'failed'];

/** `phase_number` as written ("4.5/8", "?/7", ...), with what could be parsed from it. */
export interface PhaseNumber {
  /** The producer's text, verbatim; null when absent. */
  raw: string | null;
  /** Fractional phases are real ("4.5"); null when unknown ("?"). */
  current: number | null;
  /** Null when absent or unparseable. */
  total: number | null;
}

/** A problem with a session's inputs. The session keeps its last good state. */
export interface SessionWarning {
  /** Stable machine-readable code, e.g. `invalid_json`, `too_large`, `unreadable`. */
  code: string;
  message: string;
  /** When the problem was seen (epoch ms). */
  at: number;
}

/** The derived, canonical status of one build session. */
export interface SessionStatus {
  /**
   * The key used in URLs and topics. Equal to `sessionId` unless two project
   * folders claim the same `session_id`; then the later one is disambiguated
   * with its folder (`weather-app@other-folder`).
   */
  id: string;
  /** The `session_id` the producer wrote, or the project folder's name when absent. */
  sessionId: string;
  /** Absolute project folder (the parent of `.context-foundry/`), when known. */
  projectDir: string | null;
  source: SessionSource;
  currentPhase: string;
  phaseNumber: PhaseNumber;
  /** The producer's status verbatim; unknown values are kept and shown. */
  status: string;
  state: SessionState;
  progressDetail: string | null;
  testIteration: number | null;
  phasesCompleted: string[];
  /**
   * The first `started_at` the LLM wrote in this run, parsed; kept when later
   * documents omit it. Informational: it can be months off, so elapsed time
   * is measured from `firstSeenAt`.
   */
  startedAt: number | null;
  /** `last_updated` as written by the LLM, parsed; informational only. */
  reportedAt: number | null;
  /** When this run first appeared to Livestream (file mtime or receipt; whole ms): the start elapsed time counts from. */
  firstSeenAt: number;
  /** File mtime or receipt time of the last change that altered this status. */
  changedAt: number;
  /** 0..100, from the phase number; null when unknown. */
  progressPercent: number | null;
  /** Estimated completion time from observed phase durations; null when unknown or done. */
  etaAt: number | null;
  warnings: SessionWarning[];
  /** Fields the producer wrote that the model does not know (kept, shown; large ones summarised). */
  extras: Record<string, unknown>;
  /**
   * Which run of this project the session is: a new build in the same folder
   * after the previous one ended is run 2, 3, … with its own key. Absent = 1.
   */
  run?: number;
  /** The template version the build's documents show (`src/shared/phases.ts`). */
  template?: TemplateId;
  /** Times the build went back to an earlier phase (self-healing redesign loops). */
  loops?: number;
  /**
   * The machine the build runs on: the authenticated host of the
   * `livestream forward` that sent it, else the server's own machine name
   * (local files and pushes). Absent from servers and stored rows older than
   * the field: clients show it as unknown.
   */
  host?: string;
}

/** One phase change, as recorded in history. */
export interface PhaseTransition {
  sessionKey: string;
  from: string | null;
  to: string;
  /** Trustworthy time of the change (mtime or receipt). */
  at: number;
  phaseNumber: string | null;
  status: string;
}

/** One row of a session's timeline. */
export interface TimelineEntry {
  phase: string;
  phaseNumber: string | null;
  startedAt: number;
  /** Null while the phase is current. */
  endedAt: number | null;
  /** Null while the phase is current: clients compute it from `startedAt`. */
  durationMs: number | null;
  /** 0 on the first pass; n when the build came back to this phase in its n-th loop. */
  loop?: number;
}

/** Everything a session page shows besides logs and metrics. */
export interface SessionDetail {
  status: SessionStatus;
  timeline: TimelineEntry[];
}

/** One line of a session's live log. */
export interface LogLine {
  /** Monotonic per session; lets clients de-duplicate and virtualise. */
  n: number;
  at: number;
  level: 'info' | 'warn' | 'error' | 'event';
  text: string;
  /** Event type for lines that came from events.jsonl or /api/broadcast. */
  kind?: string;
}
