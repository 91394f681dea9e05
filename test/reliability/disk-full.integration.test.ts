/**
 * The history database on a full disk: a real, tiny tmpfs holds the
 * database; a filler file takes the rest of its space. The server keeps
 * serving live state, says `history: "not_saving"` (and logs it once), and
 * once space is freed it saves again and replays what it kept: after a
 * restart the phases pushed while the disk was full are in the history.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli, type ServerProcess, startServer, waitFor } from '../helpers/server.ts';

/** A write route's answer: `saved` says whether it is in the stored history. */
interface Answer {
  saved?: boolean;
  history?: string;
  message?: string;
}

interface Health {
  history: string;
  store: { writable: boolean; pending: number; lastError: string | null };
}

function tryMount(dir: string, size: string): string | null {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
    return null;
  } catch (error) {
    return (error as Error).message.split('\n')[0] ?? 'mount failed';
  }
}

/** Writes zeros until the file system refuses (ENOSPC). */
async function fill(path: string): Promise<void> {
  const handle = await open(path, 'w');
  const chunk = Buffer.alloc(64 * 1024);
  try {
    for (;;) await handle.write(chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    await handle.close().catch(() => undefined);
  }
}

describe('history database on a full disk', () => {
  let dir = '';
  let mnt = '';
  let mounted = false;
  let mountError: string | null = null;
  const servers: ServerProcess[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ls-full-'));
    mnt = join(dir, 'disk');
    await mkdir(mnt);
    mountError = tryMount(mnt, '3m');
    mounted = mountError === null;
  });

  after(async () => {
    for (const s of servers) await s.stop('SIGKILL');
    if (mounted) execFileSync('umount', ['-l', mnt]);
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps serving, reports not_saving once, and replays when space returns', async (t) => {
    if (!mounted) {
      t.skip(
        `a tmpfs cannot be mounted here (${mountError}); run as root to exercise a real full disk`,
      );
      return;
    }
    const db = join(mnt, 'history.db');
    const root = join(dir, 'root');
    await mkdir(root);
    const server = await startServer(['--root', root, '--db', db], {
      LIVESTREAM_LOG_LEVEL: 'info',
    });
    servers.push(server);
    const health = async () => (await (await fetch(`${server.url}/api/health`)).json()) as Health;
    const push = async (phase: string) => {
      const response = await fetch(`${server.url}/api/phase-update`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          session_id: 'full',
          current_phase: phase,
          status: 'building',
          progress_detail: 'x'.repeat(4000),
        }),
      });
      assert.equal(response.status, 200, 'pushes are accepted while history is not saved');
      return (await response.json()) as Answer;
    };
    const post = async (path: string, body: unknown) => {
      const response = await fetch(`${server.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      assert.equal(response.status, 200, path);
      return (await response.json()) as Answer;
    };

    assert.equal((await push('Before')).saved, true);
    assert.equal((await health()).history, 'saving');
    // A failed build raises an alert, acknowledged and snoozed below while the disk is full.
    await post('/api/phase-update', {
      session_id: 'broken',
      current_phase: 'Test',
      status: 'failed',
    });
    const alertId = await waitFor(
      async () => {
        const { alerts } = (await (await fetch(`${server.url}/api/attention`)).json()) as {
          alerts: { id: string; sessionId: string }[];
        };
        return alerts.find((a) => a.sessionId === 'broken')?.id;
      },
      10_000,
      "the failed build's alert",
    );

    const filler = join(mnt, 'filler');
    await fill(filler);
    // Push until the store notices: a WAL page may still have had room.
    const whileFull: string[] = [];
    for (let i = 0; i < 150 && (await health()).history === 'saving'; i++) {
      const phase = `Full${i}`;
      await push(phase);
      whileFull.push(phase);
    }
    const failing = await health();
    assert.equal(failing.history, 'not_saving', 'health says history is not being saved');
    assert.match(failing.store.lastError ?? '', /FULL|IOERR|disk/i);
    for (let i = 0; i < 5; i++) {
      const phase = `Stuck${i}`;
      // The answer says the change is live but not in the history (issue 14.6).
      const answer = await push(phase);
      assert.equal(answer.saved, false);
      assert.equal(answer.history, 'not_saving');
      assert.match(answer.message ?? '', /not being saved.*restart/);
      whileFull.push(phase);
    }
    // `livestream push` says so too, and still exits 0 (it was delivered).
    const file = join(dir, 'stuck-phase.json');
    await writeFile(
      file,
      JSON.stringify({ session_id: 'full', current_phase: 'Stuck4', status: 'building' }),
    );
    const cli = runCli(['push', file, '--url', server.url]);
    let printed = '';
    cli.stdout?.on('data', (c: Buffer) => {
      printed += c.toString();
    });
    cli.stderr?.on('data', (c: Buffer) => {
      printed += c.toString();
    });
    const [code] = (await once(cli, 'exit')) as [number | null];
    assert.equal(code, 0);
    assert.match(printed, /pushed .* → session full/);
    assert.match(printed, /livestream push: not saved: .*not being saved/);
    for (const [path, body] of [
      ['/api/broadcast/full', { type: 'log_line', data: { message: 'while full' } }],
      ['/api/agent-update', { session_id: 'full', agent_id: 'a1', status: 'running' }],
      ['/api/attention/ack', { id: alertId, by: 'test' }],
      ['/api/attention/snooze', { id: alertId, minutes: 5 }],
    ] as const) {
      const answer = await post(path, body);
      assert.equal(answer.saved, false, path);
      assert.equal(answer.history, 'not_saving', path);
    }
    // Live state is still served.
    const status = (await (await fetch(`${server.url}/api/status/full`)).json()) as {
      currentPhase: string;
    };
    assert.equal(status.currentPhase, whileFull.at(-1));
    assert.ok((await health()).store.pending > 0, 'writes are kept in memory');
    const lines = server
      .output()
      .split('\n')
      .filter((l) => l.includes('history store: cannot write'));
    assert.equal(lines.length, 1, 'one log line, not one per write');

    await rm(filler);
    const recovered = await waitFor(
      async () => {
        const h = await health();
        return h.history === 'saving' && h.store.pending === 0 ? h : undefined;
      },
      45_000,
      'the store to save again',
    );
    assert.equal(recovered.store.lastError, null);
    assert.equal((await push('After')).saved, true);
    assert.equal(
      (await post('/api/broadcast/full', { type: 'log_line', data: { message: 'after' } })).saved,
      true,
    );
    assert.equal((await post('/api/attention/snooze', { id: alertId, minutes: 10 })).saved, true);
    assert.match(server.output(), /writable again/);

    await server.stop('SIGTERM');
    const restarted = await startServer(['--root', root, '--db', db]);
    servers.push(restarted);
    const phases = (await (await fetch(`${restarted.url}/api/phases/full`)).json()) as {
      timeline: { phase: string }[];
    };
    const recorded = phases.timeline.map((e) => e.phase);
    assert.deepEqual(
      recorded,
      ['Before', ...whileFull, 'After'],
      'pending writes were replayed in order',
    );
  });
});
