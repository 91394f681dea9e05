#!/usr/bin/env node
// Launcher for the compiled CLI (dist/cli.js, built by `npm run build`).
// On Node 24+ it runs the CLI in this process: no second process, so short
// commands start as fast as node itself. The long-running commands re-exec
// once with the runtime flags of bin/runtime.mjs, which only take effect at
// process start (glibc reads MALLOC_* before any JavaScript runs; the V8
// semi-space is sized when the heap is set up). On an older node it re-execs
// on the pinned Node (the `node` package), because node:sqlite needs Node 24.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import nodeModule, { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { NODE_FLAGS, runtimeEnv } from './runtime.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist', 'cli.js');
const args = process.argv.slice(2);

/** Commands that run for hours: worth one re-exec for their memory flags. */
const LONG_RUNNING = new Set(['serve', 'demo']);

function pinnedNode() {
  try {
    const require = createRequire(join(root, 'package.json'));
    const bin = join(dirname(require.resolve('node/package.json')), 'bin', 'node');
    if (existsSync(bin)) return bin;
  } catch {
    // not installed: the caller reports it
  }
  return null;
}

function reexec(node) {
  const child = spawn(node, [...NODE_FLAGS, cli, ...args], {
    // The IPC channel tells the child when this process dies without forwarding a signal.
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    env: runtimeEnv(),
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => child.kill(signal));
  }
  child.on('exit', (code, signal) => {
    if (signal) process.kill(process.pid, signal);
    else process.exit(code ?? 1);
  });
}

if (!existsSync(cli)) {
  process.stderr.write(`livestream: ${cli} is missing; run 'npm run build' in ${root}.\n`);
  process.exit(1);
}
const modern = Number(process.versions.node.split('.')[0]) >= 24;
if (modern && !LONG_RUNNING.has(args.find((a) => !a.startsWith('-')) ?? '')) {
  // V8's code cache on disk (Node's own, in the temp folder; NODE_DISABLE_COMPILE_CACHE=1
  // turns it off): from the second run on, short commands skip compiling their modules.
  // Looked up on the module object: Node 20 has no such export, and this file must load there.
  nodeModule.enableCompileCache?.();
  process.argv = [process.argv[0] ?? process.execPath, cli, ...args];
  await import(pathToFileURL(cli).href);
} else {
  const node = modern ? process.execPath : pinnedNode();
  if (!node) {
    process.stderr.write(
      `livestream needs Node 24 or later (this is ${process.version}). Run 'npm install' in ${root} to get the pinned Node, or install Node 24.\n`,
    );
    process.exit(1);
  }
  reexec(node);
}
