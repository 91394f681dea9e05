/**
 * The inputs of plan derivation: what a plan folder holds, already read from
 * disk. Everything in `src/core/plans` is pure: the same input gives the same
 * `PlanDetail`, with no clock and no I/O.
 */

/** Which folder of the plan a file was found in. */
export type PlanFileDir = 'subplans' | 'execution' | 'feedbacks';

export interface PlanFile {
  dir: PlanFileDir;
  /** Base name, e.g. `SUBPLAN_DEMO_12.md`. */
  name: string;
  mtimeMs: number;
  /**
   * The achievement the file declares in its own text (`**Achievement**: 1.10`),
   * when the reader looked. Readers only look for files whose name is
   * ambiguous against the index (see `ambiguousNumbers`).
   */
  declared?: string | null;
  /** The date a feedback file declares in its text (`**Review Date**:`), epoch ms; read for feedbacks only. */
  declaredAt?: number | null;
  /** The hours a SUBPLAN declares (`**Estimated Effort**: 2-3 hours`); read for subplans only. */
  effortHours?: number | null;
  /**
   * When version control last committed the file, epoch ms; null when the
   * folder is in a repository but the file is not committed, absent when the
   * folder is in no repository.
   */
  committedAt?: number | null;
}

export interface PlanInput {
  /** The plan's id (its folder name unless disambiguated). */
  id: string;
  /** Absolute path of the plan folder. */
  path: string;
  /** The grouping folder the plan lies in (`a_paused`), relative to the plans folder; null at the top. */
  group?: string | null;
  /** Name of the PLAN_*.md file, null when the folder has none. */
  planFile: string | null;
  /** Text of the PLAN file (possibly truncated by the reader), null when absent or unreadable. */
  planText: string | null;
  planMtimeMs: number | null;
  /** Raw text of parallel.json, null when absent. */
  parallelText: string | null;
  parallelMtimeMs: number | null;
  files: PlanFile[];
  /** Problems the reader met (unreadable files, truncation). */
  readWarnings?: string[];
  /** When the reader read the folder, epoch ms: "idle" is measured against it. Absent: nothing is idle. */
  readAt?: number | null;
}

/**
 * What a plans source tells the plans engine: a plan folder read (with the id
 * the source gave it), a plan gone, or a full scan finished (the list is
 * complete, even when empty).
 */
export type PlanSourceEvent =
  | { type: 'plan'; input: PlanInput }
  | { type: 'gone'; id: string }
  | { type: 'synced' };
