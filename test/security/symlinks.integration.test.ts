/**
 * Issue 14.4 against a real `livestream serve` child: a watched file swapped
 * for a symbolic link right after an invalid write (the re-read) is never
 * followed, so nothing outside the root is read, ingested or quoted.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CONFIRM_MS } from '../../src/sources/burst-reader.ts';
import { claudePrompt, lines } from '../helpers/agent-transcripts.ts';
import { type ServerProcess, startServer, waitFor } from '../helpers/server.ts';

let dir = '';
let root = '';
let server: ServerProcess;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ls-link-'));
  root = join(dir, 'root');
  await mkdir(join(dir, 'outside'), { recursive: true });
  await writeFile(
    join(dir, 'outside', 'phase.json'),
    '{"session_id":"outside-file","current_phase":"Stolen","status":"active"}',
  );
  for (const project of ['p', 'q']) {
    await mkdir(join(root, project, '.context-foundry'), { recursive: true });
    await writeFile(phaseFile(project), phase(project));
  }
  server = await startServer(['--root', root, '--db', join(dir, 'ls.db')]);
  await waitFor(async () => ((await ids()).includes('q') ? true : undefined), 10_000, 'sessions');
});

after(async () => {
  await server?.stop('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

function phaseFile(project: string): string {
  return join(root, project, '.context-foundry', 'current-phase.json');
}

function phase(id: string): string {
  return JSON.stringify({ session_id: id, current_phase: 'Builder', status: 'active' });
}

async function ids(): Promise<string[]> {
  const body = (await (await fetch(`${server.url}/api/sessions`)).json()) as
    | { sessions: { id: string }[] }
    | { id: string }[];
  return (Array.isArray(body) ? body : body.sessions).map((s) => s.id);
}

let sentinels = 0;

/**
 * Writes invalid JSON, then at once replaces the file with a link to
 * `target` (inside the quick re-read window), then waits until a project
 * created afterwards is a session and the bad read's confirmation time has
 * passed: by then every read the swap caused has been done.
 */
async function swapForLink(project: string, target: string): Promise<void> {
  await writeFile(phaseFile(project), '{"session_id":');
  await rm(phaseFile(project));
  await symlink(target, phaseFile(project));
  const sentinel = `sentinel-${++sentinels}`;
  const started = Date.now();
  await mkdir(join(root, sentinel, '.context-foundry'), { recursive: true });
  await writeFile(phaseFile(sentinel), phase(sentinel));
  await waitFor(
    async () =>
      (await ids()).includes(sentinel) && Date.now() - started > 2 * CONFIRM_MS ? true : undefined,
    10_000,
    'the sentinel project',
  );
}

describe('re-reads of a file swapped for a symlink', () => {
  it('do not ingest a JSON file outside the root', async () => {
    await swapForLink('p', join(dir, 'outside', 'phase.json'));
    assert.ok(!(await ids()).includes('outside-file'), 'a file outside the root became a session');
  });

  it('never read or quote /etc/passwd', async () => {
    await swapForLink('q', '/etc/passwd');
    assert.doesNotMatch(server.output(), /root:x:0:0/);
    for (const path of ['/api/sessions', '/api/status/q', '/api/logs/q']) {
      const text = await (await fetch(`${server.url}${path}`)).text();
      assert.doesNotMatch(text, /root:x:0:0/, path);
    }
  });

  it('pick the file up again once a real file replaces the link', async () => {
    await rm(phaseFile('p'));
    await writeFile(
      phaseFile('p'),
      JSON.stringify({ session_id: 'p', current_phase: 'Test', status: 'active' }),
    );
    await waitFor(
      async () => {
        const response = await fetch(`${server.url}/api/status/p`);
        const text = await response.text();
        return response.status === 200 && text.includes('"Test"') ? true : undefined;
      },
      10_000,
      'the recovered session',
    );
  });
});

describe('JSONL files swapped for links while tailed (events, transcripts)', () => {
  let tails: ServerProcess;
  const sid = (n: number) => `00000000-0000-4000-8000-00000000000${n}`;
  const outside = () => join(dir, 'outside');
  const eventsFile = () => join(dir, 'tail-root', 't', 'logs', 'events', 't', 'events.jsonl');
  const transcript = (n: number) =>
    join(dir, 'claude', 'projects', '-home-dev-app', `${sid(n)}.jsonl`);
  const event = (n: number, message: string) =>
    `${JSON.stringify({ type: 'progress', sequence: n, data: { message } })}\n`;

  before(async () => {
    // The outside files are longer than what the tails have read: a followed
    // link would be read from its start as a rotated file.
    let secretEvents = '';
    for (let n = 1; n <= 50; n++) secretEvents += event(1000 + n, `outside-secret event ${n}`);
    await writeFile(join(outside(), 'events.jsonl'), secretEvents);
    const secretPrompts = Array.from({ length: 50 }, (_, n) =>
      claudePrompt({ sessionId: sid(1), at: Date.now() + n }, `outside-secret prompt ${n}`),
    );
    await writeFile(join(outside(), 'transcript.jsonl'), lines(secretPrompts));
    await mkdir(join(dir, 'tail-root', 't', '.context-foundry'), { recursive: true });
    await writeFile(
      join(dir, 'tail-root', 't', '.context-foundry', 'current-phase.json'),
      phase('t'),
    );
    await mkdir(join(eventsFile(), '..'), { recursive: true });
    await writeFile(eventsFile(), event(1, 'first real event'));
    await mkdir(join(transcript(1), '..'), { recursive: true });
    await writeFile(
      transcript(1),
      lines([claudePrompt({ sessionId: sid(1), at: Date.now() }, 'a real prompt')]),
    );
    tails = await startServer([
      '--root',
      join(dir, 'tail-root'),
      '--db',
      join(dir, 'tails.db'),
      '--claude-dir',
      join(dir, 'claude'),
      '--codex-dir',
      join(dir, 'no-codex'),
    ]);
  });
  after(async () => {
    await tails?.stop('SIGKILL');
  });

  const text = async (path: string) => (await fetch(`${tails.url}${path}`)).text();

  it('are never followed: nothing outside the root is read', async () => {
    await waitFor(
      async () =>
        (await text('/api/logs/t?lines=100')).includes('first real event') ? true : undefined,
      10_000,
      'the real events.jsonl',
    );
    await waitFor(
      async () => ((await text('/api/agents')).includes(sid(1)) ? true : undefined),
      10_000,
      'the real transcript',
    );
    for (let round = 0; round < 5; round++) {
      // Append (a change event is on its way), then swap the file for a link at once.
      await writeFile(eventsFile(), event(10 + round, `real event ${round}`), { flag: 'a' });
      await rm(eventsFile());
      await symlink(join(outside(), 'events.jsonl'), eventsFile());
      await writeFile(
        transcript(1),
        lines([claudePrompt({ sessionId: sid(1), at: Date.now() }, `real prompt ${round}`)]),
        { flag: 'a' },
      );
      await rm(transcript(1));
      await symlink(join(outside(), 'transcript.jsonl'), transcript(1));
      // A sentinel transcript written afterwards has been read: the swaps' events are handled.
      const sentinel = sid(2 + round);
      await writeFile(
        transcript(2 + round),
        lines([claudePrompt({ sessionId: sentinel, at: Date.now() }, 'sentinel')]),
      );
      await waitFor(
        async () => ((await text('/api/agents')).includes(sentinel) ? true : undefined),
        10_000,
        'the sentinel transcript',
      );
      await new Promise((r) => setTimeout(r, 2 * CONFIRM_MS));
      for (const path of ['/api/agents', `/api/agents/${sid(1)}`, '/api/logs/t?lines=1000']) {
        assert.doesNotMatch(await text(path), /outside-secret/, `round ${round}: ${path}`);
      }
      assert.doesNotMatch(tails.output(), /outside-secret/);
      // Real files again, for the next round.
      await rm(eventsFile());
      await writeFile(eventsFile(), event(100 + round, `restored ${round}`));
      await rm(transcript(1));
      await writeFile(
        transcript(1),
        lines([claudePrompt({ sessionId: sid(1), at: Date.now() }, `restored ${round}`)]),
      );
    }
  });
});
