import { HOOK_EVENTS, TOOL_HOOK_EVENTS } from './hooks.ts';

/** The `http` hook handler Livestream adds to a Claude Code settings file. */
export interface HttpHook {
  type: 'http';
  url: string;
  /** Seconds; Livestream answers at once, so a stopped server costs the agent little. */
  timeout: number;
  headers?: Record<string, string>;
  allowedEnvVars?: string[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Our handler: `tokenEnv` names the environment variable Claude Code reads
 * the token from (the token itself never goes into a settings file).
 */
export function livestreamHook(url: string, tokenEnv: string | null): HttpHook {
  return {
    type: 'http',
    url,
    timeout: 2,
    ...(tokenEnv
      ? { headers: { Authorization: `Bearer $${tokenEnv}` }, allowedEnvVars: [tokenEnv] }
      : {}),
  };
}

/** Whether a settings entry is a handler Livestream added: an `http` hook to `…/api/hooks`. */
export function isLivestreamHook(h: unknown): boolean {
  if (!isObj(h) || h.type !== 'http' || typeof h.url !== 'string') return false;
  // The path of an absolute URL, read without the URL class (core has no DOM or node types).
  const path = /^[a-z][a-z\d+.-]*:\/\/[^/?#]*(\/[^?#]*)?/i.exec(h.url.trim());
  if (!path) return false;
  return (path[1] ?? '').replace(/\/+$/, '').endsWith('/api/hooks');
}

export class SettingsShapeError extends Error {}

function hooksOf(settings: Obj): Obj {
  const hooks = settings.hooks ?? {};
  if (!isObj(hooks)) throw new SettingsShapeError('"hooks" is not an object');
  return hooks;
}

/**
 * `settings` with our handler on every hook event Livestream uses, keeping
 * everything else as it was (other hooks, other keys, their order). A handler
 * of ours already there is replaced, so installing twice changes nothing.
 */
export function installHooks(settings: unknown, hook: HttpHook): Obj {
  if (!isObj(settings)) throw new SettingsShapeError('the settings file is not a JSON object');
  const removed = uninstallHooks(settings);
  const hooks = { ...hooksOf(removed) };
  for (const event of HOOK_EVENTS) {
    const groups = hooks[event] ?? [];
    if (!Array.isArray(groups)) throw new SettingsShapeError(`"hooks.${event}" is not an array`);
    const group = TOOL_HOOK_EVENTS.has(event)
      ? { matcher: '*', hooks: [{ ...hook }] }
      : { hooks: [{ ...hook }] };
    hooks[event] = [...groups, group];
  }
  return { ...removed, hooks };
}

/**
 * `settings` without the handlers Livestream added: a matcher group left
 * empty by that goes, so does an event left empty, and `hooks` when nothing
 * else is in it. Nothing else changes.
 */
export function uninstallHooks(settings: unknown): Obj {
  if (!isObj(settings)) throw new SettingsShapeError('the settings file is not a JSON object');
  if (settings.hooks === undefined) return settings;
  const hooks = hooksOf(settings);
  const out: Obj = {};
  for (const [event, groups] of Object.entries(hooks)) {
    if (!Array.isArray(groups)) {
      out[event] = groups;
      continue;
    }
    const kept: unknown[] = [];
    for (const group of groups) {
      if (!isObj(group) || !Array.isArray(group.hooks)) {
        kept.push(group);
        continue;
      }
      const handlers = group.hooks.filter((h) => !isLivestreamHook(h));
      if (handlers.length === group.hooks.length) kept.push(group);
      else if (handlers.length > 0) kept.push({ ...group, hooks: handlers });
    }
    if (kept.length > 0 || groups.length === 0) out[event] = kept;
  }
  const { hooks: _old, ...rest } = settings;
  return Object.keys(out).length > 0 || Object.keys(hooks).length === 0
    ? { ...rest, hooks: out }
    : rest;
}

/** A line diff (`-`/`+`/` ` prefixes) of two texts, for `--dry-run`; settings files are small. */
export function lineDiff(before: string, after: string): string {
  const a = before === '' ? [] : before.split('\n');
  const b = after === '' ? [] : after.split('\n');
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () =>
    new Array<number>(b.length + 1).fill(0),
  );
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      const row = lcs[i] as number[];
      row[j] =
        a[i] === b[j]
          ? ((lcs[i + 1] as number[])[j + 1] as number) + 1
          : Math.max((lcs[i + 1] as number[])[j] as number, row[j + 1] as number);
    }
  }
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      out.push(`  ${a[i]}`);
      i++;
      j++;
    } else if (
      j < b.length &&
      (i >= a.length ||
        ((lcs[i] as number[])[j + 1] as number) >= ((lcs[i + 1] as number[])[j] as number))
    ) {
      out.push(`+ ${b[j]}`);
      j++;
    } else {
      out.push(`- ${a[i]}`);
      i++;
    }
  }
  return out.join('\n');
}
