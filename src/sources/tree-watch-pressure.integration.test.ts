import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, test } from 'node:test';

const HELPER = join(import.meta.dirname, '..', '..', 'test', 'helpers', 'starved-watch.ts');
const temps: string[] = [];
after(async () => {
  for (const dir of temps) await rm(dir, { recursive: true, force: true });
});

/**
 * A tree watch that starts with no descriptor free (a real process whose
 * file table is full): neither the folders' watches nor their listings can
 * be had. Once descriptors are free it must read the tree and place the
 * watches it could not, so files written afterwards are seen.
 */
test('started with no file descriptor free, it reads and watches the tree once there are', {
  timeout: 30_000,
}, async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'ls-starved-'));
  temps.push(root);
  await mkdir(join(root, 'a'));
  await mkdir(join(root, 'b', 'c'), { recursive: true });
  await writeFile(join(root, 'a', 'x.json'), '{}');
  await writeFile(join(root, 'b', 'c', 'y.json'), '{}');
  const child = spawn(
    'sh',
    ['-c', 'ulimit -n 256 && exec "$0" "$@"', process.execPath, '--import', 'tsx', HELPER, root],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  t.after(() => {
    child.kill('SIGKILL');
  });
  const seen: Record<string, unknown>[] = [];
  let waiter: { pred: (m: Record<string, unknown>) => boolean; done: () => void } | null = null;
  createInterface({ input: child.stdout }).on('line', (line) => {
    const message = JSON.parse(line) as Record<string, unknown>;
    seen.push(message);
    if (waiter?.pred(message)) {
      waiter.done();
      waiter = null;
    }
  });
  const until = (pred: (m: Record<string, unknown>) => boolean) =>
    new Promise<void>((done) => {
      if (seen.some(pred)) done();
      else waiter = { pred, done };
    });

  await until((m) => m.started === true);
  assert.ok(
    seen.some((m) => m.error === 'EMFILE' && m.retrying === true),
    `EMFILE reported as retried: ${JSON.stringify(seen)}`,
  );
  assert.ok(!seen.some((m) => m.kind === 'add'), 'nothing could be read yet');

  child.stdin.write('release\n');
  await until((m) => m.rel === 'a/x.json');
  await until((m) => m.rel === 'b/c/y.json');
  await until((m) => typeof m.recovered === 'number');
  // The watches placed late follow what happens from now on.
  await writeFile(join(root, 'a', 'z.json'), '{}');
  await mkdir(join(root, 'd'));
  await writeFile(join(root, 'd', 'w.json'), '{}');
  await until((m) => m.rel === 'a/z.json');
  await until((m) => m.rel === 'd/w.json');
});
