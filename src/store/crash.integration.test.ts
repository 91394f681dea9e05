import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { captureLogger, tempDir } from '../../test/helpers/store.ts';
import { SqliteStore } from './sqlite-store.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const writer = fileURLToPath(new URL('../../test/helpers/crash-writer.ts', import.meta.url));
const KEY = 'crashy';

/**
 * Starts the writer and resolves with the last count it reported once it has
 * reported at least `target` committed transitions (it keeps writing).
 */
function startWriter(
  file: string,
  target: number,
): { child: ChildProcess; reached: Promise<number> } {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--disable-warning=ExperimentalWarning', writer, file, KEY],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const reached = new Promise<number>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.on('line', (line) => {
      const count = Number(/^committed (\d+)$/.exec(line)?.[1]);
      if (count >= target) {
        lines.close();
        resolve(count);
      }
    });
    child.on('exit', (code, signal) =>
      reject(new Error(`writer exited early (${code ?? signal}): ${stderr}`)),
    );
  });
  return { child, reached };
}

function kill9(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/** Checks the file with a fresh connection: intact, and transitions are exactly 0..n-1. */
function inspect(file: string): number {
  const db = new DatabaseSync(file);
  try {
    const integrity = db.prepare('PRAGMA integrity_check').all();
    assert.deepEqual(
      integrity.map((r) => r.integrity_check),
      ['ok'],
    );
    assert.deepEqual(db.prepare('PRAGMA foreign_key_check').all(), []);
    const dupes = db
      .prepare(
        'SELECT session_key, at, to_phase, count(*) AS n FROM transitions GROUP BY 1, 2, 3 HAVING n > 1',
      )
      .all();
    assert.deepEqual(dupes, []);
    const stats = db
      .prepare(
        'SELECT count(*) AS n, count(DISTINCT at) AS distinct_at, min(at) AS lo, max(at) AS hi FROM transitions WHERE session_key = ?',
      )
      .get(KEY) as { n: number; distinct_at: number; lo: number; hi: number };
    assert.equal(stats.distinct_at, stats.n);
    assert.equal(stats.lo, 1_000);
    assert.equal(stats.hi, 1_000 + stats.n - 1, 'committed batches form a prefix: no gap');
    return stats.n;
  } finally {
    db.close();
  }
}

describe('SqliteStore after kill -9', () => {
  let tmp: ReturnType<typeof tempDir>;
  const children: ChildProcess[] = [];
  before(() => {
    tmp = tempDir();
  });
  after(async () => {
    for (const child of children) await kill9(child);
    tmp.cleanup();
  });

  it('reopens with every committed transition and no duplicates, twice over', async () => {
    const file = join(tmp.dir, 'crash.db');

    const first = startWriter(file, 2_000);
    children.push(first.child);
    const acknowledged = await first.reached;
    await kill9(first.child);
    const afterFirst = inspect(file);
    assert.ok(afterFirst >= acknowledged, `${afterFirst} stored, ${acknowledged} acknowledged`);

    // A restarted writer replays from the start: the store must not duplicate anything.
    const second = startWriter(file, afterFirst + 1_000);
    children.push(second.child);
    const acknowledgedAgain = await second.reached;
    await kill9(second.child);
    const afterSecond = inspect(file);
    assert.ok(
      afterSecond >= acknowledgedAgain,
      `${afterSecond} stored, ${acknowledgedAgain} acknowledged`,
    );

    const store = SqliteStore.open(file, { logger: captureLogger().logger });
    const stored = await store.transitions(KEY);
    assert.equal(stored.length, afterSecond);
    assert.equal(stored[5]?.to, 'P5');
    assert.equal((await store.getSession(KEY))?.status.id, KEY);
    await store.close();
  });
});
