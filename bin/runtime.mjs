// How every livestream process runs, shared by the launcher, `npm start`,
// the tests, the benchmarks and the soak so they measure what users run.

/**
 * V8 flags. A semi-space of 8 MB caps the young generation at 16 MB: V8
 * otherwise grows it up to 128 MB on 64-bit under a steady allocation rate,
 * and a server left running for days keeps those pages resident (the soak
 * measured RSS 35 MB lower with no change in event-loop delay).
 */
export const NODE_FLAGS = ['--max-semi-space-size=8'];

/**
 * The child's environment. glibc gives each thread that allocates (libuv's
 * pool: file reads, zlib for permessage-deflate) its own malloc arena, and
 * freed memory scattered over many arenas is rarely returned; two arenas
 * keep RSS near what is in use. A value set by the user wins.
 */
export function runtimeEnv(env = process.env) {
  return { MALLOC_ARENA_MAX: '2', ...env };
}
