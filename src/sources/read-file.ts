import { constants } from 'node:fs';
import { open } from 'node:fs/promises';

/** Largest file a source reads whole. */
export const MAX_READ_BYTES = 1024 * 1024;

export type ReadProblem = 'empty' | 'too_large' | 'not_a_file' | 'unreadable' | 'missing';

export type ReadResult =
  | { ok: true; text: string; mtimeMs: number; size: number }
  | { ok: false; code: ReadProblem; message: string; mtimeMs?: number };

/**
 * Reads a small text file whole, bounded by `maxBytes`. Never throws: every
 * failure is a code and a message that says what to do. Opens first and stats
 * the open handle, so a file swapped between stat and read is not misread;
 * O_NONBLOCK keeps a FIFO named like a watched file from hanging the reader.
 */
export async function readBounded(path: string, maxBytes = MAX_READ_BYTES): Promise<ReadResult> {
  let handle: import('node:fs/promises').FileHandle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
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

function openFailure(path: string, err: NodeJS.ErrnoException): ReadResult {
  switch (err.code) {
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
    case 'ELOOP':
      return { ok: false, code: 'unreadable', message: `${path} is a symlink loop` };
    default:
      return { ok: false, code: 'unreadable', message: `cannot open ${path}: ${err.message}` };
  }
}
