import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmod, chown, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Throwaway PostgreSQL and Redis servers for tests and benchmarks: Debian's
 * binaries, a temp folder, a free loopback port, stopped (and the folder
 * removed) by `close()`. PostgreSQL refuses to run as root, so as root it runs
 * as the `postgres` user its package creates.
 */

/** A free TCP port on 127.0.0.1 (the kernel picks; closed again before use). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  server.close();
  await once(server, 'close');
  return port;
}

async function postgresBin(): Promise<string> {
  const base = '/usr/lib/postgresql';
  const versions = (await readdir(base).catch(() => [] as string[])).sort(
    (a, b) => Number(b) - Number(a),
  );
  if (versions.length === 0)
    throw new Error('PostgreSQL is not installed (apt-get install postgresql)');
  return join(base, versions[0] as string, 'bin');
}

const asRoot = process.getuid?.() === 0;

/** argv for running a PostgreSQL binary as a user it accepts. */
function asPostgres(bin: string, args: string[]): [string, string[]] {
  return asRoot ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
}

export interface PostgresServer {
  url: string;
  port: number;
  /** Stops the server (fast shutdown); `start()` brings it back on the same port and data. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Runs SQL through psql (in `database`, default postgres), returns its unaligned output. */
  psql(sql: string, database?: string): Promise<string>;
  close(): Promise<void>;
}

export async function startPostgres(): Promise<PostgresServer> {
  const bin = await postgresBin();
  const dir = await mkdtemp(join(tmpdir(), 'livestream-pg-'));
  const data = join(dir, 'data');
  await mkdir(data);
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    await chown(dir, Number(stdout), Number(gid));
    await chown(data, Number(stdout), Number(gid));
  }
  await chmod(data, 0o700);
  const [initCmd, initArgs] = asPostgres(join(bin, 'initdb'), [
    '-D',
    data,
    '-U',
    'postgres',
    '-A',
    'trust',
    '-E',
    'UTF8',
    '--no-sync',
  ]);
  await run(initCmd, initArgs);
  const port = await freePort();
  let child: ChildProcess | null = null;

  const start = async () => {
    const [cmd, args] = asPostgres(join(bin, 'postgres'), [
      '-D',
      data,
      '-p',
      String(port),
      '-k',
      dir,
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
      '-c',
      'full_page_writes=off',
    ]);
    const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('ready to accept connections')) {
          proc.stderr?.off('data', onData);
          proc.stdout?.off('data', onData);
          resolve();
        }
      };
      proc.stderr?.on('data', onData);
      proc.stdout?.on('data', onData);
      proc.once('exit', (code) => reject(new Error(`postgres exited (${code}): ${output}`)));
    });
    proc.stderr?.resume();
    proc.stdout?.resume();
  };

  const stop = async () => {
    const proc = child;
    child = null;
    if (!proc || proc.exitCode !== null) return;
    const exited = once(proc, 'exit');
    // SIGINT is PostgreSQL's fast shutdown: clients are disconnected at once.
    // Sent to the postmaster itself: `runuser` does not pass it on.
    const pid = Number((await readFile(join(data, 'postmaster.pid'), 'utf8')).split('\n')[0]);
    process.kill(pid, 'SIGINT');
    await exited;
  };

  await start();
  return {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop,
    start,
    psql: async (sql, database = 'postgres') => {
      const { stdout } = await run(join(bin, 'psql'), [
        '-h',
        '127.0.0.1',
        '-p',
        String(port),
        '-U',
        'postgres',
        '-d',
        database,
        '-XAtc',
        sql,
      ]);
      return stdout.trim();
    },
    close: async () => {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface RedisServer {
  url: string;
  port: number;
  /** Stops Redis (SIGKILL when `kill`), keeping its data folder; `start()` restarts it. */
  stop(kill?: boolean): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A Redis with append-only persistence (fsync every write), so a restart
 * keeps what it acknowledged, as a production Redis for a bus should.
 */
export async function startRedis(): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), 'livestream-redis-'));
  const port = await freePort();
  let child: ChildProcess | null = null;
  const start = async () => {
    const proc = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--save',
        '',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = proc;
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Ready to accept connections')) {
          proc.stdout?.off('data', onData);
          resolve();
        }
      };
      proc.stdout?.on('data', onData);
      proc.once('exit', (code) => reject(new Error(`redis-server exited (${code}): ${output}`)));
    });
    proc.stdout?.resume();
    proc.stderr?.resume();
  };
  const stop = async (kill = false) => {
    const proc = child;
    child = null;
    if (!proc || proc.exitCode !== null) return;
    const exited = once(proc, 'exit');
    proc.kill(kill ? 'SIGKILL' : 'SIGTERM');
    await exited;
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    stop,
    start,
    close: async () => {
      await stop(true);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
