// Compiles the CLI into dist/ so users run JavaScript, not TypeScript through
// tsx: a cold `livestream --help` no longer pays for transpiling every module,
// and nothing depends on the tsconfig of the folder the user stands in.
import { readFileSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';

// Dependencies stay in node_modules (installed beside the package), except
// Ink and React: bundled into the TUI's chunk, in their production builds.
// Loaded from node_modules, Ink's ~90 modules, the whole es-toolkit it
// imports and React's development builds cost the plans dashboard most of its
// first frame (`npm run bench -- startup`). `react-devtools-core` is Ink's
// optional development hook, never installed.
const BUNDLED = new Set(['ink', 'react']);
const { dependencies } = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
);
const external = Object.keys(dependencies)
  .filter((name) => !BUNDLED.has(name))
  .flatMap((name) => [name, `${name}/*`])
  .concat('react-devtools-core');

/**
 * The esbuild options of dist/ (also read by test/build.integration.test.ts,
 * which checks with a metafile what each command loads before its first line runs).
 */
export const BUILD_OPTIONS = {
  entryPoints: { cli: 'src/cli.ts' },
  outdir: 'dist',
  bundle: true,
  external,
  define: { 'process.env.NODE_ENV': '"production"' },
  platform: 'node',
  target: 'node24',
  format: 'esm',
  jsx: 'automatic',
  // Lazy imports (the Ink TUI, the app, the server, telemetry, the PostgreSQL store) stay lazy: their own chunks.
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  sourcemap: 'linked',
  logLevel: 'warning',
  // Bundled CommonJS (Ink's signal-exit) requires Node's built-ins.
  banner: {
    js: "import { createRequire as __livestreamRequire } from 'node:module'; const require = __livestreamRequire(import.meta.url);",
  },
};

// Run as a script (not imported); import.meta.main would do, but not on the PATH's older Node.
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  // Chunk names carry a hash: drop the previous build's (dist/web is Vite's).
  for (const old of ['dist/cli.js', 'dist/cli.js.map', 'dist/chunks']) {
    rmSync(old, { recursive: true, force: true });
  }
  await build(BUILD_OPTIONS);
}
