// Typechecks every tsconfig in the repository, one environment each (node,
// the pure core/shared layers, the browser app and its tests), so a new
// config cannot be left out of `npm run typecheck` by forgetting to list it.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const SKIP = new Set(['node_modules', 'dist', '.git', 'test-results', 'playwright-report']);

function configs(dir, depth) {
  const found = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isFile() && /^tsconfig(\..+)?\.json$/.test(entry.name))
      found.push(join(dir, entry.name));
    else if (
      entry.isDirectory() &&
      depth > 0 &&
      !SKIP.has(entry.name) &&
      !entry.name.startsWith('.')
    ) {
      found.push(...configs(join(dir, entry.name), depth - 1));
    }
  }
  return found;
}

let failed = 0;
for (const config of configs('.', 2).sort()) {
  const run = spawnSync(join('node_modules', '.bin', 'tsc'), ['--noEmit', '-p', config], {
    stdio: 'inherit',
  });
  if (run.status !== 0) {
    failed++;
    process.stderr.write(`typecheck: ${config} failed\n`);
  }
}
process.exit(failed === 0 ? 0 : 1);
