/**
 * Issue 14 (smaller items) against a real `livestream serve` child: a 50 MB
 * JSONL line without a newline, written in 1 MB appends, gives one warning,
 * not one per append, and the lines after it are read.
 */
import assert from 'node:assert/strict';
import { appendFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { type ServerProcess, startServer, waitFor } from '../helpers/server.ts';

let dir = '';
let server: ServerProcess;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ls-line-'));
  await mkdir(join(dir, 'root', 'proj', 'logs', 'ralph_s50'), { recursive: true });
  server = await startServer(['--root', join(dir, 'root'), '--db', join(dir, 'ls.db')]);
});

after(async () => {
  await server?.stop('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

function warnings(): number {
  return server.output().match(/session\.jsonl: skipped [^"]*over the length limit/g)?.length ?? 0;
}

it('a 50 MB line without newline gives one warning, and the next lines are read', async () => {
  const push = await fetch(`${server.url}/api/phase-update`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ session_id: 's50', current_phase: 'Builder', status: 'active' }),
  });
  assert.equal(push.status, 200);
  const file = join(dir, 'root', 'proj', 'logs', 'ralph_s50', 'session.jsonl');
  await writeFile(file, '');
  const mb = Buffer.alloc(1024 * 1024, 'x');
  for (let i = 0; i < 50; i++) {
    await appendFile(file, mb);
    // Each append is its own change event, as a slow writer makes them.
    if (i >= 4 && i % 5 === 4) {
      await waitFor(() => (warnings() > 0 ? true : undefined), 10_000, 'the warning');
    }
  }
  await appendFile(file, '\n');
  await appendFile(file, `${'{'.repeat(3)}\n`);
  await waitFor(
    () =>
      /session\.jsonl: skipped 1 line\(s\) that are not valid JSON/.test(server.output())
        ? true
        : undefined,
    10_000,
    'the line after the long one read',
  );
  assert.equal(warnings(), 1, `${warnings()} warnings for one long line`);
});
