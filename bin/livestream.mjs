#!/usr/bin/env node
// Launcher: runs the CLI on the project's pinned Node (the `node` package),
// whatever `node` is first on PATH, because node:sqlite needs Node 24.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NODE_FLAGS, runtimeEnv } from './runtime.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));

function pinnedNode() {
  try {
    const bin = join(dirname(require.resolve('node/package.json')), 'bin', 'node');
    if (existsSync(bin)) return bin;
  } catch {
    // not installed: fall through to the running node
  }
  return null;
}

const major = Number(process.versions.node.split('.')[0]);
const node = major >= 24 ? process.execPath : pinnedNode();
if (!node) {
  process.stderr.write(
    `livestream needs Node 24 or later (this is ${process.version}). Run 'npm install' in ${root} to get the pinned Node, or install Node 24.\n`,
  );
  process.exit(1);
}
const tsx = require.resolve('tsx');
const child = spawn(
  node,
  [
    ...NODE_FLAGS,
    '--import',
    tsx,
    '--disable-warning=ExperimentalWarning',
    join(root, 'src', 'cli.ts'),
    ...process.argv.slice(2),
  ],
  { stdio: 'inherit', env: runtimeEnv() },
);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => child.kill(signal));
}
child.on('exit', (code, signal) => {
  if (signal) process.kill(process.pid, signal);
  else process.exit(code ?? 1);
});
