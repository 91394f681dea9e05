import { z } from 'zod';

/** One line of the plan's achievement index. */
export interface IndexEntry {
  id: string;
  /** Markdown and emoji kept as written. */
  title: string;
}

const HEADING = /^(#{1,6})\s+(.*)$/;
const INDEX_HEADING = /achievement\s+index/i;
/**
 * An index line: an optional list marker and checkbox, optional emphasis or
 * link bracket, `Achievement <id>`, then a separator and the title.
 * `- Achievement 1.2: Title`, `- [x] **Achievement 1.10**: **Bold** 🚀`,
 * `1. [Achievement 2.1 — Title](#a21)`.
 */
// Each optional part eats its own trailing blanks: two `\s*` side by side backtrack
// cubically on a long blank line (seconds of blocked event loop per line).
const ENTRY =
  /^\s*(?:(?:[-*+]|\d+[.)])\s*)?(?:\[[ xX]\]\s*)?(?:(?:✅|☑️?|✔️?|⏳|🔄|⏸️?|❌|⬜)\s*)?(?:(?:\*\*|__|\[)\s*)?Achievement\s+(\d+(?:\.\d+)*)\s*(?:(?:\*\*|__)\s*)?(?:[:\-–—]\s*)?(.*)$/u;
/**
 * A bold index line outside any "Achievement Index" section, as plans that list
 * their work under headings like "## 🎯 Desirable Achievements" write it:
 * `**Achievement 0.1**: Title` or `**Achievement 0.1: Title**`, optionally as a
 * list item or with a done mark.
 */
const BOLD_ENTRY =
  /^\s*(?:[-*+]\s*)?(?:(?:✅|☑️?|✔️?|⏳|🔄|⏸️?|❌|⬜)\s*)?\*\*Achievement\s+(\d+(?:\.\d+)*)(?:\*\*\s*[:\-–—]\s*(.*)|\s*[:\-–—]\s*(.*?)\*\*\s*)$/u;
/** Achievement headings in the plan body, used when there is no index section. */
const BODY_HEADING = /^#{2,6}\s+(?:[^\w\s]+\s*)?Achievement\s+(\d+(?:\.\d+)*)\s*[:\-–—]?\s*(.*)$/;

function cleanTitle(raw: string): string {
  let title = raw.trim();
  // A whole-line link `[Achievement 1.2: Title](#anchor)`: keep the text.
  const link = /^(.*)\]\([^)]*\)\s*$/.exec(title);
  if (link) title = (link[1] as string).trim();
  return title;
}

/**
 * Reads the `Achievement Index` section of a PLAN file. Without such a
 * section, falls back to `### Achievement X.Y: Title` headings in the body.
 * Duplicate ids keep their first title.
 */
export function parseAchievementIndex(text: string): { entries: IndexEntry[]; warnings: string[] } {
  const lines = text.split(/\r?\n/);
  const warnings: string[] = [];
  const entries: IndexEntry[] = [];
  const seen = new Set<string>();
  const add = (id: string, title: string) => {
    if (seen.has(id)) {
      warnings.push(`The achievement index lists ${id} more than once; the first entry is used.`);
      return;
    }
    seen.add(id);
    entries.push({ id, title: cleanTitle(title) });
  };

  let start = -1;
  let level = 0;
  for (let i = 0; i < lines.length; i++) {
    const h = HEADING.exec(lines[i] as string);
    if (h && INDEX_HEADING.test(h[2] as string)) {
      start = i + 1;
      level = (h[1] as string).length;
      break;
    }
  }
  if (start >= 0) {
    for (let i = start; i < lines.length; i++) {
      const line = lines[i] as string;
      const h = HEADING.exec(line);
      if (h && (h[1] as string).length <= level) break;
      const m = ENTRY.exec(line);
      if (m) add(m[1] as string, m[2] as string);
    }
    return { entries, warnings };
  }
  for (const line of lines) {
    const m = BODY_HEADING.exec(line) ?? BOLD_ENTRY.exec(line);
    // Outside an index, a heading and a bold line may name the same achievement: the first wins quietly.
    if (m && !seen.has(m[1] as string)) add(m[1] as string, (m[2] ?? m[3] ?? '') as string);
  }
  if (entries.length === 0) {
    warnings.push(
      'The PLAN file has no "Achievement Index" section and no achievement headings or "**Achievement N.N**:" lines.',
    );
  }
  return { entries, warnings };
}

/** What parallel.json says about one achievement. */
export interface ParallelEntry {
  id: string;
  title: string | null;
  priority: string | null;
  estimatedHours: number | null;
  dependencies: string[];
}

const idLike = z.union([z.string(), z.number()]).transform(String);
const parallelSchema = z.object({
  achievements: z.array(
    z.object({
      achievement_id: idLike,
      title: z.string().nullish(),
      priority: z.union([z.string(), z.number()]).nullish(),
      estimated_hours: z.union([z.number(), z.string()]).nullish(),
      dependencies: z.array(idLike).nullish(),
    }),
  ),
});

/** Parses parallel.json; bad input gives warnings and no entries, never a throw. */
export function parseParallel(text: string): { entries: ParallelEntry[]; warnings: string[] } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return {
      entries: [],
      warnings: [`parallel.json is not valid JSON: ${(error as Error).message}`],
    };
  }
  const parsed = parallelSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      entries: [],
      warnings: [
        `parallel.json does not match {"achievements":[{"achievement_id","dependencies":[]}]}: ${issue ? `${issue.path.join('.')}: ${issue.message}` : 'invalid'}`,
      ],
    };
  }
  const entries = parsed.data.achievements.map((a) => {
    const hours = a.estimated_hours == null ? null : Number(a.estimated_hours);
    return {
      id: a.achievement_id.trim(),
      title: a.title ?? null,
      priority: a.priority == null ? null : String(a.priority),
      estimatedHours: hours !== null && Number.isFinite(hours) ? hours : null,
      dependencies: (a.dependencies ?? []).map((d) => d.trim()),
    };
  });
  return { entries, warnings: [] };
}

/**
 * File names of achievement files, by kind, as producers write them:
 * `SUBPLAN_<PLAN>_12.md`, `EXECUTION_TASK_<PLAN>_12_01.md` with an optional
 * `_V2` (a rewrite) or `_RECOVERY` (a recovery attempt), `APPROVED_12.md`,
 * `APPROVED_23_v2.md`, `Approved_12.md`, `FIX_12.md` and
 * `FIX_21_RESOLUTION.md` (the answer to a FIX, which closes it). Prefixes are
 * matched without regard to case.
 */
const SUBPLAN = /^SUBPLAN_.+_(\d+(?:\.\d+)*)(?:_v(\d+))?\.md$/i;
const EXECUTION = /^EXECUTION_TASK_.+_(\d+(?:\.\d+)*)_(\d+)(?:_(?:v(\d+)|RECOVERY))?\.md$/i;
const VERDICT =
  /^(APPROVED|FIX)_(?:[A-Za-z][\w.-]*_)?(\d+(?:\.\d+)*)(?:_(\d+))?(?:_(?:v(\d+)|(RESOLUTION)))?\.md$/i;

export type FileKind = 'subplan' | 'execution' | 'approval' | 'fix' | 'resolution';

export interface ClassifiedFile {
  kind: FileKind;
  num: string;
  /** The attempt the name declares (`_v2`, `APPROVED_12_02`), 1 when it declares none. */
  attempt: number;
}

/** Classifies a plan file by its name and folder; null for files that are not achievement files. */
export function classifyFile(
  dir: 'subplans' | 'execution' | 'feedbacks',
  name: string,
): ClassifiedFile | null {
  if (dir === 'subplans') {
    const m = SUBPLAN.exec(name);
    return m ? { kind: 'subplan', num: m[1] as string, attempt: Number(m[2] ?? 1) } : null;
  }
  if (dir === 'execution') {
    const m = EXECUTION.exec(name);
    return m ? { kind: 'execution', num: m[1] as string, attempt: Number(m[3] ?? 1) } : null;
  }
  const m = VERDICT.exec(name);
  if (!m) return null;
  const fix = (m[1] as string).toUpperCase() === 'FIX';
  return {
    kind: fix ? (m[5] ? 'resolution' : 'fix') : 'approval',
    num: m[2] as string,
    attempt: Number(m[4] ?? m[3] ?? 1),
  };
}

const DATE_LINE =
  /\*{0,2}(?:Review|Resolution|Approval|Fix|Feedback)?\s*Date\*{0,2}\s*:\*{0,2}\s*(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2}(?::\d{2})?))?/i;

/**
 * The date a feedback file says it was written (`**Review Date**: 2025-11-13`,
 * `**Resolution Date**: 2025-11-12`, optionally with a time), as epoch ms UTC;
 * null when it declares none.
 */
export function declaredDate(text: string): number | null {
  const m = DATE_LINE.exec(text);
  if (!m) return null;
  const at = Date.parse(`${m[1]}T${m[2] ?? '00:00'}${m[2] && m[2].length === 5 ? ':00' : ''}Z`);
  return Number.isFinite(at) ? at : null;
}

const DECLARED =
  /\*{0,2}Achievement(?:\s+Addressed)?\*{0,2}\s*(?::\*{0,2}\s*|\*{1,2}\s*)?(?:Achievement\s+)?(\d+(?:\.\d+)+)/i;

/** The achievement a file declares in its text (`**Achievement**: 2.3 (...)`), or null. */
export function declaredAchievement(text: string): string | null {
  const m = DECLARED.exec(text);
  return m ? (m[1] as string) : null;
}

const EFFORT_LINE = /\*\*Estimated Effort\*\*\s*:\s*([^\n]*)/i;
const EFFORT_VALUE =
  /(\d+(?:\.\d+)?)(?:\s*(?:-|–|to)\s*(\d+(?:\.\d+)?))?\s*(hours?|hrs?|h|minutes?|mins?|m|days?|d)\b/i;

/**
 * The hours a SUBPLAN declares in its header (`**Estimated Effort**: 2-3
 * hours`, `1.5 hours`, `30 minutes`, `3-4 hours (pipeline + monitoring)`),
 * or null. A range counts as its middle; a day is 8 working hours.
 */
export function declaredEffortHours(text: string): number | null {
  const line = EFFORT_LINE.exec(text)?.[1];
  if (!line) return null;
  const m = EFFORT_VALUE.exec(line);
  if (!m) return null;
  const low = Number(m[1]);
  const high = m[2] === undefined ? low : Number(m[2]);
  if (!Number.isFinite(low) || !Number.isFinite(high) || high < low) return null;
  const unit = (m[3] as string).toLowerCase();
  const perUnit = unit.startsWith('m') ? 1 / 60 : unit.startsWith('d') ? 8 : 1;
  const hours = ((low + high) / 2) * perUnit;
  return hours > 0 ? Math.round(hours * 100) / 100 : null;
}
