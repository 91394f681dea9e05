// What dist/ holds and what each short command loads before its first line
// runs, read from the real build's metafile (the same options as dist/).
// Start-up time is a benchmark (`npm run bench -- startup`); this keeps the
// cause of a regression out: a static import that drags the server, the
// metrics library or the TUI into `--help` or `status`. And test code never
// ships: no module of test/ (or a test file) may end up in the build.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { build, type Metafile } from 'esbuild';

const ROOT = join(import.meta.dirname, '..');

/** Packages no short command needs: loading any of them costs tens of milliseconds. */
const SERVER_ONLY = [
  'fastify',
  '@fastify/websocket',
  '@fastify/static',
  '@fastify/rate-limit',
  'ws',
];
const HEAVY = [...SERVER_ONLY, 'prom-client', 'pg', 'ink', 'react'];

async function metafile(): Promise<Metafile> {
  const { BUILD_OPTIONS } = (await import(join(ROOT, 'scripts', 'build.mjs'))) as {
    BUILD_OPTIONS: Parameters<typeof build>[0];
  };
  const result = await build({
    ...BUILD_OPTIONS,
    absWorkingDir: ROOT,
    write: false,
    metafile: true,
    sourcemap: false,
    logLevel: 'silent',
  });
  return result.metafile;
}

/** The packages an output and its static imports load (dynamic imports stay out). */
function staticPackages(meta: Metafile, output: string): Set<string> {
  const packages = new Set<string>();
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name)) return;
    seen.add(name);
    for (const imported of meta.outputs[name]?.imports ?? []) {
      if (imported.kind === 'dynamic-import') continue;
      if (imported.external) packages.add(imported.path);
      else visit(imported.path);
    }
  };
  visit(output);
  return packages;
}

function outputOf(meta: Metafile, test: (name: string, entry: string | undefined) => boolean) {
  const found = Object.entries(meta.outputs).find(
    ([name, out]) => !name.endsWith('.map') && test(name, out.entryPoint),
  );
  assert.ok(found, 'output not in the build');
  return found[0];
}

test('--help and every command parse load no server, metrics, TUI or PostgreSQL package', async () => {
  const meta = await metafile();
  const cli = outputOf(meta, (name) => name.endsWith('dist/cli.js'));
  const loaded = staticPackages(meta, cli);
  assert.ok(loaded.has('commander'), 'the walk sees the CLI imports');
  for (const pkg of HEAVY) assert.ok(!loaded.has(pkg), `dist/cli.js loads ${pkg} at start-up`);
});

test('status reads folders through the app without Fastify, prom-client or the TUI', async () => {
  const meta = await metafile();
  const cli = outputOf(meta, (name) => name.endsWith('dist/cli.js'));
  const app = outputOf(meta, (_name, entry) => entry === 'src/app.ts');
  const loaded = new Set([...staticPackages(meta, cli), ...staticPackages(meta, app)]);
  assert.ok(loaded.has('node:sqlite'), 'the walk sees the app imports');
  for (const pkg of HEAVY) assert.ok(!loaded.has(pkg), `status loads ${pkg} with the app`);
});

test('the build holds no test code', async () => {
  const meta = await metafile();
  const inputs = Object.keys(meta.inputs).filter((p) => !p.startsWith('node_modules/'));
  assert.ok(inputs.includes('src/cli.ts'), 'the build reads the sources');
  const testCode = inputs.filter((p) => p.startsWith('test/') || /\.test\.tsx?$/.test(p));
  assert.deepEqual(testCode, []);
});
