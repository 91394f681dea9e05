import { execFile } from 'node:child_process';

/** A plan folder's history listing is cut off past this much output (a huge, old repository). */
const MAX_LOG_BYTES = 64 * 1024 * 1024;

/**
 * When each file of a plan folder was last committed, in epoch ms, keyed by
 * its path relative to the folder (`execution/feedbacks/APPROVED_11.md`).
 * One `git log` per plan folder: a fresh clone or a `git checkout` stamps
 * every file with the same mtime, while the history keeps the order the
 * reviews were written in. Null when the folder is not in a git work tree or
 * git cannot run (not installed, a broken repository): mtimes decide then.
 */
export function commitTimes(planDir: string): Promise<Map<string, number> | null> {
  return new Promise((resolve) => {
    execFile(
      'git',
      [
        '-C',
        planDir,
        'log',
        '--no-renames',
        '--relative',
        '--name-only',
        '--format=%x01%ct',
        '--',
        'subplans',
        'execution',
      ],
      {
        maxBuffer: MAX_LOG_BYTES,
        encoding: 'utf8',
        env: { ...process.env, GIT_OPTIONAL_LOCKS: '0' },
      },
      (error, stdout) => resolve(error ? null : parseLog(stdout)),
    );
  });
}

/** Newest commit first (git log's order): a file's first appearance is its last commit. */
export function parseLog(out: string): Map<string, number> {
  const times = new Map<string, number>();
  let at = 0;
  for (const line of out.split('\n')) {
    if (line.startsWith('\x01')) at = Number(line.slice(1)) * 1000;
    else if (line && !times.has(line)) times.set(line, at);
  }
  return times;
}
