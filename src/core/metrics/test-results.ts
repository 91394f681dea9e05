/**
 * Figures from free-form test output (`test-results-iteration-N.md`). An
 * explicit summary beats counting markers: a runner's summary line (pytest,
 * jest, mocha, go) or the author's own "Passed: 8" list is taken as written;
 * only when there is none are PASSED/FAILED markers counted, one per word.
 */

export interface TestCounts {
  total: number | null;
  passed: number | null;
  failed: number | null;
  skipped: number | null;
  durationMs: number | null;
  /**
   * The author's own verdict line ("**Status:** FAILED - compilation errors"),
   * which wins over the counts: a suite can pass 13/13 while the build does
   * not compile. Absent when the file states none (the counts decide).
   */
  verdict?: 'passed' | 'failed';
  /** Why a failed verdict failed, as written; null when it says nothing more. */
  reason?: string | null;
}

const TEST_RESULTS_FILE = /(?:^|\/)test-results-iteration-(\d+)\.md$/;

/** The iteration number of a `test-results-iteration-N.md` path, or null. */
export function testIterationOf(path: string): number | null {
  const m = TEST_RESULTS_FILE.exec(path);
  if (!m) return null;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) ? n : null;
}

interface Partial {
  total?: number;
  passed?: number;
  failed?: number;
  skipped?: number;
  durationMs?: number;
}

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  sec: 1000,
  secs: 1000,
  second: 1000,
  seconds: 1000,
  m: 60_000,
  min: 60_000,
  mins: 60_000,
  minute: 60_000,
  minutes: 60_000,
};

/** "3.2s", "120 ms", "1m 3s", "0.12 seconds" → ms. */
export function parseDuration(text: string): number | null {
  const re = /(\d+(?:\.\d+)?)\s*(ms|seconds|second|secs|sec|s|minutes|minute|mins|min|m)\b/gi;
  let total = 0;
  let found = false;
  for (const m of text.matchAll(re)) {
    const unit = UNIT_MS[(m[2] as string).toLowerCase()];
    if (unit === undefined) continue;
    total += Number(m[1]) * unit;
    found = true;
  }
  return found ? Math.round(total) : null;
}

const WORD_FIELD: Record<string, keyof Partial> = {
  passed: 'passed',
  passing: 'passed',
  pass: 'passed',
  failed: 'failed',
  failing: 'failed',
  failures: 'failed',
  failure: 'failed',
  errors: 'failed',
  error: 'failed',
  skipped: 'skipped',
  pending: 'skipped',
  todo: 'skipped',
  total: 'total',
};

function add(into: Partial, field: keyof Partial, n: number): void {
  into[field] = (into[field] ?? 0) + n;
}

function countsIn(text: string, words: RegExp): Partial {
  const out: Partial = {};
  for (const m of text.matchAll(words)) {
    const field = WORD_FIELD[(m[2] as string).toLowerCase()];
    if (field) add(out, field, Number(m[1]));
  }
  return out;
}

/** Jest/vitest: "Tests:  2 failed, 1 skipped, 8 passed, 11 total" and "Time: 3.2 s". */
function jest(lines: string[]): Partial | null {
  let found: Partial | null = null;
  let duration: number | null = null;
  for (const line of lines) {
    const m = /^\s*Tests?:\s+(.*\d+\s+total.*)$/i.exec(line);
    if (m) found = countsIn(m[1] as string, /(\d+)\s+(failed|skipped|todo|passed|total)\b/gi);
    const t = /^\s*(?:Time|Duration):\s+(.+)$/i.exec(line);
    if (t) duration = parseDuration(t[1] as string);
  }
  if (found && duration !== null) found.durationMs = duration;
  return found;
}

/** pytest and look-alikes: "===== 5 passed, 2 failed, 1 skipped in 3.21s =====". */
function pytest(lines: string[]): Partial | null {
  let found: Partial | null = null;
  for (const line of lines) {
    if (!/\d+\s+(passed|failed)\b/i.test(line)) continue;
    if (/^\s*(Tests?|Test Suites|Snapshots):/i.test(line)) continue;
    const counts = countsIn(line, /(\d+)\s+(passed|failed|skipped|errors?)\b/gi);
    const d = /\bin\s+([\d.]+\s*(?:ms|s|seconds?|sec)\b(?:\s*\([^)]*\))?)/i.exec(line);
    if (d) {
      const ms = parseDuration(d[1] as string);
      if (ms !== null) counts.durationMs = ms;
    }
    found = counts;
  }
  return found;
}

/** mocha: "  5 passing (3s)", "  2 failing", "  1 pending". */
function mocha(lines: string[]): Partial | null {
  let found: Partial | null = null;
  for (const line of lines) {
    const m = /^\s*(\d+)\s+(passing|failing|pending)\b(?:\s*\(([^)]+)\))?\s*$/i.exec(line);
    if (!m) continue;
    if ((m[2] as string).toLowerCase() === 'passing') found = {};
    found ??= {};
    add(found, WORD_FIELD[(m[2] as string).toLowerCase()] as keyof Partial, Number(m[1]));
    if (m[3]) {
      const ms = parseDuration(m[3]);
      if (ms !== null) found.durationMs = ms;
    }
  }
  return found;
}

/** go test -v: "--- PASS: TestX (0.01s)"; the package line "ok  pkg 0.123s" gives the duration. */
function goTest(lines: string[]): Partial | null {
  let found: Partial | null = null;
  let duration = 0;
  let timed = false;
  for (const line of lines) {
    const m = /^\s*--- (PASS|FAIL|SKIP):/.exec(line);
    if (m) {
      found ??= {};
      add(found, m[1] === 'PASS' ? 'passed' : m[1] === 'FAIL' ? 'failed' : 'skipped', 1);
      continue;
    }
    const pkg = /^(?:ok|FAIL)\s+\S+\s+([\d.]+s)\b/.exec(line);
    if (pkg) {
      duration += parseDuration(pkg[1] as string) ?? 0;
      timed = true;
    }
  }
  if (found && timed) found.durationMs = duration;
  return found;
}

/** The author's own list: "- **Passed**: 8", "Total tests: 10", "| Failed | 2 |". */
function keyValues(lines: string[]): Partial | null {
  const out: Partial = {};
  const re =
    /^[\s>*\-|#]*\**\s*(total(?:\s+tests)?|tests\s+run|passed|passing|failed|failing|failures|skipped)(?:\s+tests)?\s*\**\s*(?::|\|)\s*\**\s*(\d+)\b/i;
  for (const line of lines) {
    const m = re.exec(line);
    if (!m) continue;
    const word = (m[1] as string).toLowerCase();
    const field: keyof Partial =
      word.startsWith('total') || word === 'tests run' ? 'total' : (WORD_FIELD[word] ?? 'total');
    out[field] = Number(m[2]);
  }
  if (out.passed === undefined && out.failed === undefined) return null;
  for (const line of lines) {
    const d = /^[\s>*\-|#]*\**\s*(?:duration|time|elapsed)\s*\**\s*(?::|\|)\s*\**\s*(.+)$/i.exec(
      line,
    );
    if (d) {
      const ms = parseDuration(d[1] as string);
      if (ms !== null) {
        out.durationMs = ms;
        break;
      }
    }
  }
  return out;
}

/** Verbose markers when nothing summarises: `test_a PASSED`, `✓ works`, `✗ breaks`. */
function markers(text: string): Partial | null {
  const out: Partial = {};
  for (const m of text.matchAll(/\b(PASSED|FAILED|SKIPPED|ERROR)\b|([✓✔])|([✗✘×])/g)) {
    if (m[1] === 'PASSED' || m[2]) add(out, 'passed', 1);
    else if (m[1] === 'FAILED' || m[1] === 'ERROR' || m[3]) add(out, 'failed', 1);
    else add(out, 'skipped', 1);
  }
  return Object.keys(out).length > 0 ? out : null;
}

/**
 * Parses test output. Summaries from different runners in one file (a backend
 * and a frontend suite) are added up; within one runner the last summary wins
 * (a re-run). Returns null when the text holds no recognisable result.
 */
export function parseTestResults(text: string): TestCounts | null {
  const lines = text.split(/\r?\n/);
  const stated = verdictOf(lines);
  const own = keyValues(lines);
  const summaries = own
    ? [own]
    : [jest(lines), pytest(lines), mocha(lines), goTest(lines)].filter(
        (s): s is Partial => s !== null,
      );
  if (summaries.length === 0) {
    const counted = markers(text);
    if (counted) summaries.push(counted);
  }
  if (summaries.length === 0) {
    if (!stated) return null;
    return { total: null, passed: null, failed: null, skipped: null, durationMs: null, ...stated };
  }
  const sum = (field: keyof Partial): number | null => {
    let total: number | null = null;
    for (const s of summaries)
      if (s[field] !== undefined) total = (total ?? 0) + (s[field] as number);
    return total;
  };
  const passed = sum('passed');
  const failed = sum('failed');
  const skipped = sum('skipped');
  let total = 0;
  let anyTotal = false;
  for (const s of summaries) {
    if (s.total !== undefined) total += s.total;
    else total += (s.passed ?? 0) + (s.failed ?? 0) + (s.skipped ?? 0);
    anyTotal ||= s.total !== undefined || s.passed !== undefined || s.failed !== undefined;
  }
  return {
    total: anyTotal ? total : null,
    passed: passed ?? (failed !== null ? 0 : null),
    failed: failed ?? (passed !== null ? 0 : null),
    skipped,
    durationMs: sum('durationMs'),
    ...(stated ?? {}),
  };
}

const VERDICT_LINE =
  /^[\s>*\-#]*\**\s*(?:overall\s+)?(?:status|result|verdict|outcome)\s*\**\s*:\s*\**\s*[^\w]*\s*(PASSED|PASS|FAILED|FAIL|FAILURE)\b\**\s*(?:[-–—:(]\s*)?(.*)$/i;

/**
 * The file's top-level verdict: the first "Status/Result/Verdict: PASSED|FAILED"
 * line before any "### " sub-section (per-test "**Result:** ✅ PASS" lines
 * under sub-headings are not the verdict), else an "ALL TESTS PASSED" /
 * "TESTS FAILED" headline anywhere.
 */
function verdictOf(
  lines: string[],
): { verdict: 'passed' | 'failed'; reason: string | null } | null {
  for (const line of lines) {
    if (/^###\s/.test(line)) break;
    const m = VERDICT_LINE.exec(line);
    if (!m) continue;
    const failed = /^fail/i.test(m[1] as string);
    const reason = (m[2] ?? '').replace(/[*)]+\s*$/, '').trim();
    return {
      verdict: failed ? 'failed' : 'passed',
      reason: failed && reason !== '' ? reason : null,
    };
  }
  for (const line of lines) {
    if (/\bALL TESTS PASS(?:ED)?\b/.test(line)) return { verdict: 'passed', reason: null };
    if (/\bTESTS? FAILED\b/.test(line)) return { verdict: 'failed', reason: null };
  }
  return null;
}
