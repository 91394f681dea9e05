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
 * The child's environment (glibc's malloc; other C libraries ignore it).
 * Each thread that allocates (libuv's pool: file reads, zlib for
 * permessage-deflate) gets its own arena, and memory freed across many
 * arenas is rarely returned: two arenas keep RSS near what is in use. And
 * glibc raises its mmap threshold each time a large block is freed, after
 * which snapshot-sized Buffers (100 KB to a few MB, freed a moment later)
 * come from the heap and leave holes that keep RSS up; a fixed threshold
 * keeps them in their own mappings, returned on free. A value set by the
 * user wins.
 */
export function runtimeEnv(env = process.env) {
  return {
    MALLOC_ARENA_MAX: '2',
    MALLOC_MMAP_THRESHOLD_: '131072',
    ...env,
    // Our tsconfig, not the one of the folder the user runs in (JSX broke outside the checkout).
    TSX_TSCONFIG_PATH: decodeURIComponent(new URL('../tsconfig.json', import.meta.url).pathname),
  };
}
