import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { tempDir } from '../../../test/helpers/plan-fixtures.ts';
import { LOCK_NAME, ownerAlive, PlansLock, processStartTime } from './lock.ts';

const CHILD = join(import.meta.dirname, '../../../test/helpers/lock-child.ts');
const { dir: root, cleanup } = tempDir('livestream-lock-');
after(cleanup);
let n = 0;
const fresh = () => {
  const dir = join(root, `d${++n}`);
  mkdirSync(dir, { recursive: true });
  return dir;
};

const children: ChildProcess[] = [];
after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

function start(
  dir: string,
  mode: 'hold' | 'try' | 'throw',
): { child: ChildProcess; line: Promise<string>; exit: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir, mode], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const line = new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(out.slice(0, nl));
    });
    child.on('exit', () => resolve(out.trim()));
    child.on('error', reject);
  });
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, line, exit };
}

const lockPath = (dir: string) => join(dir, LOCK_NAME);
const readLock = (dir: string) => JSON.parse(readFileSync(lockPath(dir), 'utf8'));

test('acquire writes pid, start time and host; release removes the file', async () => {
  const dir = fresh();
  const result = await PlansLock.acquire(dir);
  assert.ok(result.acquired);
  const owner = readLock(dir);
  assert.equal(owner.pid, process.pid);
  assert.equal(owner.host, hostname());
  assert.equal(owner.startTime, processStartTime(process.pid));
  assert.ok(result.lock.ownsFile());
  result.lock.releaseSync();
  assert.equal(existsSync(lockPath(dir)), false);
  result.lock.releaseSync();
});

test('a live instance keeps the lock: the second is told its pid and never removes it', async () => {
  const dir = fresh();
  const holder = start(dir, 'hold');
  assert.equal(await holder.line, 'locked');
  const second = await PlansLock.acquire(dir);
  assert.equal(second.acquired, false);
  assert.equal(second.acquired ? null : second.owner?.pid, holder.child.pid);
  assert.equal(readLock(dir).pid, holder.child.pid);
  holder.child.kill('SIGTERM');
  assert.equal(await holder.exit, 143);
  assert.equal(existsSync(lockPath(dir)), false, 'SIGTERM released the lock');
});

test('a lock of a dead process is stale and reclaimed', async () => {
  const dir = fresh();
  const dead = start(dir, 'hold');
  assert.equal(await dead.line, 'locked');
  const owner = readLock(dir);
  dead.child.kill('SIGKILL');
  await dead.exit;
  assert.equal(readLock(dir).pid, owner.pid, 'SIGKILL leaves the lock behind');
  const result = await PlansLock.acquire(dir);
  assert.ok(result.acquired);
  assert.equal(readLock(dir).pid, process.pid);
  result.lock.releaseSync();
});

test('a live pid with another start time is a reused pid: the lock is reclaimed', async () => {
  const dir = fresh();
  const other = start(dir, 'hold');
  assert.equal(await other.line, 'locked');
  const real = readLock(dir);
  // The same live pid, but a start time it never had.
  writeFileSync(lockPath(dir), JSON.stringify({ ...real, startTime: real.startTime + 12345 }));
  assert.equal(ownerAlive({ ...real, startTime: real.startTime + 12345 }), false);
  assert.equal(ownerAlive(real), true);
  const result = await PlansLock.acquire(dir);
  assert.ok(result.acquired);
  result.lock.releaseSync();
  other.child.kill('SIGTERM');
  await other.exit;
});

test('an owner on another host cannot be checked and counts as live', async () => {
  const dir = fresh();
  writeFileSync(
    lockPath(dir),
    JSON.stringify({ pid: 999999, startTime: 1, host: 'elsewhere', createdAt: 1 }),
  );
  const result = await PlansLock.acquire(dir);
  assert.equal(result.acquired, false);
});

test('a half-written lock is respected while fresh and reclaimed once old', async () => {
  const dir = fresh();
  writeFileSync(lockPath(dir), '');
  const young = await PlansLock.acquire(dir);
  assert.deepEqual([young.acquired, young.acquired ? null : young.owner], [false, null]);
  const old = Date.now() / 1000 - 60;
  utimesSync(lockPath(dir), old, old);
  const result = await PlansLock.acquire(dir);
  assert.ok(result.acquired);
  result.lock.releaseSync();
});

test('a lock replaced by another owner is not removed on release', async () => {
  const dir = fresh();
  const result = await PlansLock.acquire(dir);
  assert.ok(result.acquired);
  writeFileSync(
    lockPath(dir),
    JSON.stringify({ pid: 1, startTime: null, host: hostname(), createdAt: 5 }),
  );
  result.lock.releaseSync();
  assert.equal(readLock(dir).pid, 1);
});

test('instances racing to start: exactly one wins', async () => {
  const dir = fresh();
  const racers = Array.from({ length: 4 }, () => start(dir, 'try'));
  const lines = await Promise.all(racers.map((r) => r.line));
  assert.equal(lines.filter((l) => l === 'locked').length, 1, lines.join(' | '));
  const winner = racers[lines.indexOf('locked')];
  for (const l of lines.filter((x) => x !== 'locked')) assert.equal(l, `busy ${winner?.child.pid}`);
  await Promise.all(racers.map((r) => r.exit));
  assert.equal(existsSync(lockPath(dir)), false, 'normal exit released the lock');
});

test('the lock is released on SIGINT and on an uncaught error', async () => {
  const dir = fresh();
  const a = start(dir, 'hold');
  assert.equal(await a.line, 'locked');
  a.child.kill('SIGINT');
  assert.equal(await a.exit, 130);
  assert.equal(existsSync(lockPath(dir)), false);
  const b = start(dir, 'throw');
  assert.equal(await b.exit, 1);
  assert.equal(existsSync(lockPath(dir)), false);
});

test('a lock file being written when a second instance starts: it waits to name the holder', async () => {
  const dir = fresh();
  // The winner of a race has created the file but not yet written its name.
  writeFileSync(lockPath(dir), '');
  const holder = {
    pid: process.pid,
    startTime: processStartTime(process.pid),
    host: hostname(),
    createdAt: Date.now(),
  };
  setTimeout(() => writeFileSync(lockPath(dir), `${JSON.stringify(holder)}\n`), 100);
  const result = await PlansLock.acquire(dir);
  assert.equal(result.acquired, false);
  assert.equal(
    result.acquired ? null : result.owner?.pid,
    process.pid,
    'the holder, not "unknown"',
  );
});

test('a holder that was killed but not yet reaped (a zombie) holds nothing', async (t) => {
  const dir = fresh();
  // `sleep 0` ends at once; its parent becomes `sleep 5`, which never waits for it.
  const parent = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 5'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  children.push(parent);
  t.after(() => parent.kill('SIGKILL'));
  const zombie = await new Promise<number>((resolve) => {
    parent.stdout?.once('data', (c: Buffer) => resolve(Number(c.toString().trim())));
  });
  const startTime = processStartTime(zombie);
  for (let i = 0; i < 100; i++) {
    if (readFileSync(`/proc/${zombie}/stat`, 'utf8').split(') ')[1]?.startsWith('Z')) break;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const owner = { pid: zombie, startTime, host: hostname(), createdAt: Date.now() };
  writeFileSync(lockPath(dir), `${JSON.stringify(owner)}\n`);
  assert.equal(ownerAlive(owner), false);
  const result = await PlansLock.acquire(dir);
  assert.equal(result.acquired, true);
  if (result.acquired) result.lock.releaseSync();
});
