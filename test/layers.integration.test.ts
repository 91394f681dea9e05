// The layer rules fail the build when broken: a temporary copy of the real
// biome.json and tsconfigs, with one small file per forbidden import (or
// platform API) and one per allowed one, linted and typechecked by the real
// tools. Each forbidden file must be reported, each allowed file must not, so
// neither a rule that never fires nor one that fires on everything passes.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';

const ROOT = join(import.meta.dirname, '..');
const BIN = join(ROOT, 'node_modules', '.bin');
const CONFIGS = [
  'tsconfig.json',
  'tsconfig.core.json',
  'web/tsconfig.json',
  'web/tsconfig.test.json',
];

/** Lint samples: path → import line, and whether the layer map forbids it. */
const LINT: Array<[file: string, source: string, forbidden: boolean]> = [
  ['src/core/a/sources.ts', "import { x } from '../../sources/plans/read.ts';", true],
  ['src/core/a/hub.ts', "import { x } from '../../hub/hub.ts';", true],
  ['src/core/a/store.ts', "import type { x } from '../../store/types.ts';", true],
  ['src/core/a/server.ts', "import { x } from '../../server/server.ts';", true],
  ['src/core/a/node.ts', "import { x } from 'node:fs';", true],
  ['src/core/a/bare-node.ts', "import { x } from 'path';", true],
  ['src/core/a/logger.ts', "import { x } from 'pino';", true],
  ['src/core/a/dynamic.ts', "export const x = await import('../../sources/watcher.ts');", true],
  ['src/core/a/ok-core.ts', "import { x } from '../session/run.ts';", false],
  ['src/core/a/ok-shared.ts', "import { x } from '../../shared/model.ts';", false],
  ['src/core/a/ok-zod.ts', "import { x } from 'zod';", false],
  ['src/core/a/ok.test.ts', "import { x } from 'node:fs';", false],
  ['src/shared/core.ts', "import { x } from '../core/time.ts';", true],
  ['src/shared/node.ts', "import { x } from 'node:path';", true],
  ['src/shared/ok.ts', "import { x } from './model.ts';", false],
  ['src/hub/sources.ts', "import { x } from '../sources/session-files.ts';", true],
  ['src/hub/server.ts', "import { x } from '../server/server.ts';", true],
  ['src/hub/ok-core.ts', "import { x } from '../core/session/run.ts';", false],
  ['src/hub/ok-store.ts', "import type { x } from '../store/types.ts';", false],
  ['src/server/hub.ts', "import { x } from '../hub/hub.ts';", true],
  ['src/server/engine.ts', "import { x } from '../hub/session-engine.ts';", true],
  ['src/server/sqlite.ts', "import { x } from '../store/sqlite-store.ts';", true],
  ['src/server/postgres.ts', "import { x } from '../store/postgres-store.ts';", true],
  ['src/server/routes/source.ts', "import { x } from '../../sources/watcher.ts';", true],
  ['src/server/bus.ts', "import { InProcessBus } from '../hub/fanout.ts';", true],
  ['src/server/ok-codec.ts', "import type { DeltaCodec } from '../hub/fanout.ts';", false],
  ['src/server/ok-hub.ts', "import type { Hub } from '../hub/types.ts';", false],
  ['src/server/ok-store.ts', "import type { SessionStore } from '../store/types.ts';", false],
  ['src/tui/views/fs.ts', "import { x } from 'node:fs';", true],
  ['src/tui/spawn.ts', "import { x } from 'node:child_process';", true],
  ['src/tui/views/sources.ts', "import { x } from '../../sources/plans/read.ts';", true],
  ['src/tui/store.ts', "import { x } from '../store/sqlite-store.ts';", true],
  ['src/tui/ok-client.ts', "import { x } from '../client/index.ts';", false],
  ['src/tui/views/ok-shared.ts', "import { x } from '../../shared/plans.ts';", false],
  ['src/tui/ok-ink.ts', "import { x } from 'ink';", false],
  ['src/client/node.ts', "import { x } from 'node:events';", true],
  ['src/client/hub.ts', "import { x } from '../hub/hub.ts';", true],
  ['src/client/ok-shared.ts', "import { x } from '../shared/protocol.ts';", false],
  ['src/client/ok-react.ts', "import { x } from 'react';", false],
  ['web/src/node.ts', "import { x } from 'node:fs';", true],
  ['web/src/lib/sources.ts', "import { x } from '../../../src/sources/watcher.ts';", true],
  ['web/src/lib/server.ts', "import { x } from '../../../src/server/encode.ts';", true],
  ['web/src/lib/ok-shared.ts', "import { x } from '../../../src/shared/model.ts';", false],
  ['web/src/lib/ok-client.ts', "import { x } from '../../../src/client/index.ts';", false],
  ['web/src/lib/ok-react.ts', "import { x } from 'react';", false],
];

/** Typecheck samples: path → code, and whether its environment lacks what it uses. */
const TYPES: Array<[file: string, source: string, forbidden: boolean]> = [
  ['src/core/text-encoder.ts', 'export const n = new TextEncoder().encode("x").length;', true],
  ['src/core/url.ts', 'export const p = new URL("http://x/").pathname;', true],
  [
    'src/core/node-crypto.ts',
    "import { createHash } from 'node:crypto';\nexport const h = createHash;",
    true,
  ],
  ['src/core/process.ts', 'export const e = process.env.HOME;', true],
  ['src/shared/dom.ts', 'export const t = document.title;', true],
  ['src/shared/buffer.ts', 'export const b = Buffer.from("x");', true],
  ['src/core/ok.ts', 'export const n: number = [1, 2].map((v) => v * 2).length;', false],
  ['src/core/ok.test.ts', "import { test } from 'node:test';\nexport const t = test;", false],
  ['web/src/process.ts', 'export const e = process.env.HOME;', true],
  [
    'web/src/node-fs.ts',
    "import { readFileSync } from 'node:fs';\nexport const r = readFileSync;",
    true,
  ],
  ['web/src/ok.ts', 'export const t = document.title;', false],
  ['web/src/ok.test.ts', "import { test } from 'node:test';\nexport const t = test;", false],
  ['src/server/dom.ts', 'export const t = document.title;', true],
  [
    'src/server/ok.ts',
    "import { readFileSync } from 'node:fs';\nexport const r = readFileSync;",
    false,
  ],
];

/** Biome's copy and tsc's copy: apart, so a lint sample's import cannot leak types into a tsc one. */
let lintDir: string;
let typesDir: string;

function write(dir: string, samples: typeof LINT): void {
  for (const [file, source] of samples) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), `${source}\n`);
  }
}

before(() => {
  // Outside the checkout (biome and tsc skip anything under node_modules).
  lintDir = mkdtempSync(join(tmpdir(), 'livestream-lint-rules-'));
  const biome = JSON.parse(readFileSync(join(ROOT, 'biome.json'), 'utf8'));
  // The copy is not a repository: no ignore file to read; `$schema` points at the real one.
  biome.vcs = { enabled: false };
  biome.$schema = join(ROOT, 'node_modules/@biomejs/biome/configuration_schema.json');
  writeFileSync(join(lintDir, 'biome.json'), JSON.stringify(biome));
  write(lintDir, LINT);

  // A link to the real node_modules, so packages and @types resolve as they do here;
  // package.json too: its "type": "module" decides how tsc reads the files.
  typesDir = mkdtempSync(join(tmpdir(), 'livestream-type-rules-'));
  symlinkSync(join(ROOT, 'node_modules'), join(typesDir, 'node_modules'));
  for (const config of ['package.json', ...CONFIGS]) {
    mkdirSync(dirname(join(typesDir, config)), { recursive: true });
    copyFileSync(join(ROOT, config), join(typesDir, config));
  }
  write(typesDir, TYPES);
});

after(() => {
  rmSync(lintDir, { recursive: true, force: true });
  rmSync(typesDir, { recursive: true, force: true });
});

describe('layer rules', () => {
  test('biome reports every forbidden import and none of the allowed ones', () => {
    const files = LINT.map(([file]) => file);
    const run = spawnSync(join(BIN, 'biome'), ['lint', '--reporter=json', ...files], {
      cwd: lintDir,
      encoding: 'utf8',
    });
    assert.notEqual(run.status, 0, 'a forbidden import must fail the lint');
    const report = JSON.parse(run.stdout) as {
      diagnostics: Array<{ category: string; location: { path: string } }>;
    };
    const layerRules = new Set([
      'lint/style/noRestrictedImports',
      'lint/correctness/noNodejsModules',
    ]);
    const flagged = new Set(
      report.diagnostics.filter((d) => layerRules.has(d.category)).map((d) => d.location.path),
    );
    for (const [file, source, forbidden] of LINT) {
      assert.equal(flagged.has(file), forbidden, `${file}: ${source}`);
    }
  });

  test('each tsconfig refuses the platform APIs its environment lacks, and only those', () => {
    const errors = new Set<string>();
    for (const config of CONFIGS) {
      try {
        execFileSync(join(BIN, 'tsc'), ['--noEmit', '-p', config], {
          cwd: typesDir,
          encoding: 'utf8',
        });
      } catch (error) {
        const out = String((error as { stdout?: string }).stdout ?? '');
        for (const match of out.matchAll(/^(\S+?)\(\d+,\d+\): error/gm)) errors.add(match[1] ?? '');
      }
    }
    for (const [file, source, forbidden] of TYPES) {
      assert.equal(errors.has(file), forbidden, `${file}: ${source}`);
    }
  });
});
