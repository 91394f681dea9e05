import type { AchievementStatus, PlanStatus } from '../../shared/plans.ts';

export const PLAN_STATUS: Record<PlanStatus, { label: string; color: string }> = {
  needs_attention: { label: '⚠ Needs attention', color: 'red' },
  in_progress: { label: '◐ In progress', color: 'yellow' },
  ready: { label: '▶ Ready', color: 'cyan' },
  complete: { label: '✔ Complete', color: 'green' },
  not_started: { label: '○ Not started', color: 'gray' },
};

export const ACHIEVEMENT_STATUS: Record<AchievementStatus, { label: string; color: string }> = {
  approved: { label: '✔ Approved', color: 'green' },
  fix_pending: { label: '✖ Fix pending', color: 'red' },
  in_progress: { label: '◐ In progress', color: 'yellow' },
  ready: { label: '▶ Ready to execute', color: 'cyan' },
  not_started: { label: '○ Not started', color: 'gray' },
};

/** `HH:MM:SS` in local time. */
export function clock(at: number): string {
  const d = new Date(at);
  return [d.getHours(), d.getMinutes(), d.getSeconds()]
    .map((n) => String(n).padStart(2, '0'))
    .join(':');
}

/** The terminal cells `text` takes (emoji two, combining marks none). */
export function cells(text: string): number {
  let n = 0;
  for (const ch of text) n += cellWidth(ch);
  return n;
}

function cellWidth(ch: string): number {
  return /\p{Extended_Pictographic}|[\u1100-\u115F\u2E80-\uA4CF\uAC00-\uD7A3\uF900-\uFAFF\uFE30-\uFE4F\uFF00-\uFF60\uFFE0-\uFFE6]/u.test(
    ch,
  )
    ? 2
    : /[\u0300-\u036F]|\u200D|\uFE0F/u.test(ch)
      ? 0
      : 1;
}

/** Cuts text to `width` terminal cells (emoji count as two), with an ellipsis. */
export function fit(text: string, width: number): string {
  if (width <= 0) return '';
  let out = '';
  let cells = 0;
  for (const ch of text) {
    const w =
      /\p{Extended_Pictographic}|[\u1100-\u115F\u2E80-\uA4CF\uAC00-\uD7A3\uF900-\uFAFF\uFE30-\uFE4F\uFF00-\uFF60\uFFE0-\uFFE6]/u.test(
        ch,
      )
        ? 2
        : /[\u0300-\u036F]|\u200D|\uFE0F/u.test(ch)
          ? 0
          : 1;
    if (cells + w > width) return `${out.slice(0, -1)}…`;
    out += ch;
    cells += w;
  }
  return out;
}

/** A progress bar of `width` cells and the X/Y count. */
export function bar(done: number, total: number, width = 10): string {
  const filled = total > 0 ? Math.round((done / total) * width) : 0;
  return `${'█'.repeat(filled)}${'░'.repeat(width - filled)} ${done}/${total}`;
}

/** The window of `count` rows that keeps `cursor` visible. */
export function windowAround(cursor: number, length: number, count: number): [number, number] {
  if (length <= count) return [0, length];
  const start = Math.min(Math.max(0, cursor - Math.floor(count / 2)), length - count);
  return [start, start + count];
}

/**
 * Cuts text to `width` cells in the middle, so names sharing a long prefix
 * (`ENTITY-RESOLUTION-ANALYSIS`, `ENTITY-RESOLUTION-REFACTOR`) stay apart.
 */
export function fitMiddle(text: string, width: number): string {
  const chars = [...text];
  if (chars.length <= width) return text;
  if (width <= 1) return fit(text, width);
  const tail = Math.floor((width - 1) / 2);
  const head = width - 1 - tail;
  return `${chars.slice(0, head).join('')}…${chars.slice(chars.length - tail).join('')}`;
}

/** "12s", "5m", "3h", "2d", "5w": how long ago, in at most three cells. */
export function age(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h`;
  if (s < 14 * 86_400) return `${Math.floor(s / 86_400)}d`;
  if (s < 100 * 7 * 86_400) return `${Math.floor(s / (7 * 86_400))}w`;
  return `${Math.floor(s / (365 * 86_400))}y`;
}

/** Short status words for narrow terminals. */
export const PLAN_STATUS_SHORT: Record<PlanStatus, string> = {
  needs_attention: '⚠ fix',
  in_progress: '◐ doing',
  ready: '▶ ready',
  complete: '✔ done',
  not_started: '○ new',
};
