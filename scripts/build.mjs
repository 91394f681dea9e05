// Compiles the CLI into dist/ so users run JavaScript, not TypeScript through
// tsx: a cold `livestream --help` no longer pays for transpiling every module,
// and nothing depends on the tsconfig of the folder the user stands in.
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

// Chunk names carry a hash: drop the previous build's (dist/web is Vite's).
for (const old of ['dist/cli.js', 'dist/cli.js.map', 'dist/chunks']) {
  rmSync(old, { recursive: true, force: true });
}

await build({
  entryPoints: { cli: 'src/cli.ts' },
  outdir: 'dist',
  bundle: true,
  // Dependencies stay in node_modules (installed beside the package).
  packages: 'external',
  platform: 'node',
  target: 'node24',
  format: 'esm',
  jsx: 'automatic',
  // Lazy imports (the Ink TUI, the PostgreSQL store) stay lazy: their own chunks.
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  sourcemap: 'linked',
  logLevel: 'warning',
});
