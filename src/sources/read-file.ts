import { constants } from 'node:fs';
import { type FileHandle, open, readlink, realpath } from 'node:fs/promises';
import { sep } from 'node:path';

/** Largest file a source reads whole. */
export const MAX_READ_BYTES = 1024 * 1024;

export type ReadProblem =
  | 'empty'
  | 'too_large'
  | 'not_a_file'
  | 'unreadable'
  | 'missing'
  | typeof OUT_OF_DESCRIPTORS;

/**
 * The process (EMFILE) or the system (ENFILE) is out of file descriptors: not
 * the file's fault, and worth reading again once descriptors are free.
 */
export const OUT_OF_DESCRIPTORS = 'too_many_open_files';

export type ReadResult =
  | { ok: true; text: string; mtimeMs: number; size: number }
  | { ok: false; code: ReadProblem; message: string; mtimeMs?: number };

/** Watched roots (absolute paths) and how many watchers hold each: reads under them are confined. */
const confinedRoots = new Map<string, number>();
/** Each confined root's real path, as last resolved (see `openedInsideRoot`). */
const realRoots = new Map<string, string>();

/**
 * Confines every later `readBounded` of a path under `root` (absolute) to
 * files really inside it: a path that reaches its file through a symbolic
 * link anywhere below the root is refused. Returns the release.
 */
export function confineReads(root: string): () => void {
  confinedRoots.set(root, (confinedRoots.get(root) ?? 0) + 1);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    const left = (confinedRoots.get(root) ?? 1) - 1;
    if (left > 0) confinedRoots.set(root, left);
    else {
      confinedRoots.delete(root);
      realRoots.delete(root);
    }
  };
}

/**
 * Whether the file open as `fd` is the one `path` names without following
 * links: the kernel's name of the open file must be the path below the real
 * root. Answered for paths under a confined root on systems with /proc;
 * elsewhere O_NOFOLLOW (last component) is the guard.
 */
async function openedInsideRoot(path: string, fd: number): Promise<boolean> {
  for (const root of confinedRoots.keys()) {
    if (path !== root && !path.startsWith(root + sep)) continue;
    const opened = await readlink(`/proc/self/fd/${fd}`).catch(() => null);
    if (opened === null) return true;
    const inside = (realRoot: string | null) =>
      realRoot !== null && opened === realRoot + path.slice(root.length);
    // The root's real path, resolved once: resolving it on every read was most of a busy
    // forwarder's file work (an lstat per component). A stale one can only refuse, and a
    // refusal resolves it again before it stands.
    if (inside(realRoots.get(root) ?? null)) return true;
    const realRoot = await realpath(root).catch(() => null);
    if (realRoot === null) realRoots.delete(root);
    else realRoots.set(root, realRoot);
    return inside(realRoot);
  }
  return true;
}

/**
 * Reads a small text file whole, bounded by `maxBytes`. Never throws: every
 * failure is a code and a message that says what to do. Opens first and stats
 * the open handle, so a file swapped between stat and read is not misread;
 * O_NONBLOCK keeps a FIFO named like a watched file from hanging the reader.
 * Links are never followed: O_NOFOLLOW refuses a link as the last component,
 * and under a confined root (`confineReads`) the opened file must be the one
 * the path names, so a folder swapped for a link cannot lead outside.
 */
export async function readBounded(path: string, maxBytes = MAX_READ_BYTES): Promise<ReadResult> {
  let handle: FileHandle;
  try {
    handle = await openNoFollow(path);
  } catch (error) {
    return openFailure(path, error as NodeJS.ErrnoException);
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) {
      return { ok: false, code: 'not_a_file', message: `${path} is not a regular file` };
    }
    if (stats.size > maxBytes) {
      return {
        ok: false,
        code: 'too_large',
        message: `${path} is ${stats.size} bytes, over the ${maxBytes}-byte limit; it is ignored until it shrinks`,
        mtimeMs: stats.mtimeMs,
      };
    }
    // Read one byte past the limit: the file may have grown since the stat.
    const buffer = Buffer.alloc(Math.min(maxBytes + 1, Math.max(stats.size, 4096) + 1));
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > maxBytes) {
      return {
        ok: false,
        code: 'too_large',
        message: `${path} is over the ${maxBytes}-byte limit; it is ignored until it shrinks`,
        mtimeMs: stats.mtimeMs,
      };
    }
    if (length === 0) {
      return { ok: false, code: 'empty', message: `${path} is empty`, mtimeMs: stats.mtimeMs };
    }
    return {
      ok: true,
      text: buffer.toString('utf8', 0, length),
      mtimeMs: stats.mtimeMs,
      size: length,
    };
  } catch (error) {
    const err = error as NodeJS.ErrnoException;
    if (err.code === 'EISDIR') {
      return { ok: false, code: 'not_a_file', message: `${path} is a directory, not a file` };
    }
    return { ok: false, code: 'unreadable', message: `cannot read ${path}: ${err.message}` };
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/**
 * Opens `path` for reading the way `readBounded` does, for readers that keep
 * the handle (JSONL tails): never through a link, never outside a confined
 * root, never blocking on a FIFO. Rejects with the open's error; a path
 * reached through a link rejects with code `ELINK` and a message that quotes
 * nothing of what it points to.
 */
export async function openNoFollow(path: string): Promise<FileHandle> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  if (await openedInsideRoot(path, handle.fd)) return handle;
  await handle.close().catch(() => undefined);
  throw Object.assign(
    new Error(
      `${path} is reached through a symbolic link; links are not followed, nothing outside the watched root is read`,
    ),
    { code: 'ELINK' },
  );
}

function openFailure(path: string, err: NodeJS.ErrnoException): ReadResult {
  switch (err.code) {
    case 'ELINK':
      return { ok: false, code: 'unreadable', message: err.message };
    case 'ENOENT':
    case 'ENOTDIR':
      return { ok: false, code: 'missing', message: `${path} does not exist` };
    case 'EISDIR':
      return { ok: false, code: 'not_a_file', message: `${path} is a directory, not a file` };
    case 'EACCES':
    case 'EPERM':
      return {
        ok: false,
        code: 'unreadable',
        message: `permission denied reading ${path}; give the livestream user read access`,
      };
    case 'EMFILE':
    case 'ENFILE':
      return {
        ok: false,
        code: OUT_OF_DESCRIPTORS,
        message: `cannot open ${path}: too many open files (${err.code}); it is read again once descriptors are free (raise ulimit -n)`,
      };
    case 'ELOOP':
      return {
        ok: false,
        code: 'unreadable',
        message: `${path} is a symbolic link; links are not followed, so it is ignored`,
      };
    default:
      return { ok: false, code: 'unreadable', message: `cannot open ${path}: ${err.message}` };
  }
}
