/**
 * `kill -9` of the server in the middle of writes: pushes with changing
 * phases race a SIGKILL; after a restart on the same database every push
 * that was acknowledged (HTTP 200, `changed: true`) is in the session's
 * timeline, in order, once.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { type ServerProcess, startServer, waitFor } from '../helpers/server.ts';
import { type PostgresServer, startPostgres } from '../helpers/services.ts';

const ROUNDS = 4;
/** Concurrent pushers: replies of one event-loop turn are the ones a crash can orphan. */
const PUSHERS = 6;

interface Timeline {
  timeline: { phase: string }[];
}

describe('kill -9 during writes', () => {
  const servers: ServerProcess[] = [];
  let dir = '';

  after(async () => {
    for (const s of servers) await s.stop('SIGKILL');
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('keeps every acknowledged phase change, without duplicates, across crashes', async () => {
    dir = await mkdtemp(join(tmpdir(), 'ls-crash-'));
    const db = join(dir, 'history.db');
    const acked: string[] = [];
    let counter = 0;

    for (let round = 0; round < ROUNDS; round++) {
      const server = await startServer(['--root', dir, '--db', db]);
      servers.push(server);
      // Crash after a varying number of acknowledgements, while pushes are in flight.
      const killAfter = 40 + round * 17;
      let ackedThisRound = 0;
      let killed = false;
      const push = async (): Promise<void> => {
        while (!killed) {
          const phase = `P${String(counter++).padStart(5, '0')}`;
          let response: Response;
          try {
            response = await fetch(`${server.url}/api/phase-update`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({
                session_id: 'crash',
                current_phase: phase,
                status: 'building',
              }),
            });
          } catch {
            return; // the server is gone
          }
          if (response.status === 429) {
            await response.body?.cancel();
            continue;
          }
          const body = (await response.json().catch(() => null)) as { changed?: boolean } | null;
          if (response.status === 200 && body?.changed === true) {
            acked.push(phase);
            ackedThisRound++;
            if (ackedThisRound >= killAfter && !killed) {
              killed = true;
              server.child.kill('SIGKILL');
            }
          }
        }
      };
      await Promise.all(Array.from({ length: PUSHERS }, push));
      await server.stop('SIGKILL');
      assert.equal(server.child.signalCode, 'SIGKILL');
    }

    const server = await startServer(['--root', dir, '--db', db]);
    servers.push(server);
    const response = await fetch(`${server.url}/api/phases/crash`);
    assert.equal(response.status, 200, 'the database opens and the session is restored');
    const { timeline } = (await response.json()) as Timeline;
    const phases = timeline.map((t) => t.phase);
    assert.equal(new Set(phases).size, phases.length, 'no duplicate transitions');
    const recorded = new Set(phases);
    const missing = acked.filter((p) => !recorded.has(p));
    assert.deepEqual(missing, [], `${missing.length} of ${acked.length} acknowledged changes lost`);
    // Transitions keep the order they were applied in: timeline times never go back.
    const starts = timeline.map((t) => (t as unknown as { startedAt: number }).startedAt);
    for (let i = 1; i < starts.length; i++)
      assert.ok((starts[i] as number) >= (starts[i - 1] as number));
    assert.ok(acked.length >= ROUNDS * 40);
  });
});

/**
 * Concurrent broadcasts, agent updates and phase updates race SIGKILLs of
 * `serve` (started with `storeArgs`); after a restart every one answered
 * `saved: true` is in the session's log, agent tree or timeline.
 */
async function eventsSurviveCrashes(
  storeArgs: (dir: string) => string[],
  servers: ServerProcess[],
  dir: string,
): Promise<void> {
  const args = ['--root', dir, ...storeArgs(dir)];
  const ackedEvents: string[] = [];
  const ackedAgents: string[] = [];
  const ackedPhases: string[] = [];
  let counter = 0;

  for (let round = 0; round < ROUNDS; round++) {
    const server = await startServer(args);
    servers.push(server);
    const post = (path: string, body: unknown) =>
      fetch(`${server.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    if (round === 0) {
      const made = await post('/api/phase-update', {
        session_id: 'events',
        current_phase: 'Builder',
        status: 'building',
      });
      assert.equal(((await made.json()) as { saved?: boolean }).saved, true);
    }
    const killAfter = 40 + round * 17;
    let ackedThisRound = 0;
    let killed = false;
    const send = async (n: number): Promise<void> => {
      while (!killed) {
        const id = `E${String(counter++).padStart(5, '0')}`;
        const kind = (['event', 'agent', 'phase'] as const)[n % 3] as 'event' | 'agent' | 'phase';
        let response: Response;
        try {
          response =
            kind === 'phase'
              ? await post('/api/phase-update', {
                  session_id: 'phases',
                  current_phase: id,
                  status: 'building',
                })
              : kind === 'agent'
                ? await post('/api/agent-update', {
                    session_id: 'events',
                    agent_id: id,
                    status: 'running',
                    tokens_used: 10,
                  })
                : await post('/api/broadcast/events', {
                    type: 'progress',
                    session_id: 'events',
                    sequence: counter,
                    data: { message: id },
                  });
        } catch {
          return; // the server is gone
        }
        if (response.status === 429) {
          await response.body?.cancel();
          continue;
        }
        const body = (await response.json().catch(() => null)) as { saved?: boolean } | null;
        if (response.status === 200 && body?.saved === true) {
          (kind === 'agent' ? ackedAgents : kind === 'phase' ? ackedPhases : ackedEvents).push(id);
          ackedThisRound++;
          if (ackedThisRound >= killAfter && !killed) {
            killed = true;
            server.child.kill('SIGKILL');
          }
        }
      }
    };
    await Promise.all(Array.from({ length: PUSHERS }, (_, n) => send(n)));
    await server.stop('SIGKILL');
    assert.equal(server.child.signalCode, 'SIGKILL');
  }

  const server = await startServer(args);
  servers.push(server);
  const logs = (await (await fetch(`${server.url}/api/logs/events?lines=5000`)).json()) as {
    lines: { text: string }[];
  };
  const logged = new Set(logs.lines.map((l) => /E\d{5}/.exec(l.text)?.[0]));
  const lostEvents = ackedEvents.filter((id) => !logged.has(id));
  assert.deepEqual(lostEvents, [], `${lostEvents.length} of ${ackedEvents.length} lost`);
  const metrics = (await (await fetch(`${server.url}/api/metrics/events`)).json()) as {
    agent_performance: { data: { agentId: string }[] | null };
  };
  const agents = new Set((metrics.agent_performance.data ?? []).map((a) => a.agentId));
  const lostAgents = ackedAgents.filter((id) => !agents.has(id));
  assert.deepEqual(lostAgents, [], `${lostAgents.length} of ${ackedAgents.length} lost`);
  const phases = (await (await fetch(`${server.url}/api/phases/phases`)).json()) as {
    timeline: { phase: string }[];
  };
  const recorded = new Set(phases.timeline.map((t) => t.phase));
  const lostPhases = ackedPhases.filter((id) => !recorded.has(id));
  assert.deepEqual(lostPhases, [], `${lostPhases.length} of ${ackedPhases.length} lost`);
  for (const acked of [ackedEvents, ackedAgents, ackedPhases])
    assert.ok(acked.length >= ROUNDS * 10);
}

describe('kill -9 during broadcasts, agent updates and phase updates', () => {
  const servers: ServerProcess[] = [];
  let dir = '';
  let pg: PostgresServer | null = null;

  after(async () => {
    for (const s of servers) await s.stop('SIGKILL');
    await pg?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('keeps every broadcast, agent update and phase update answered "saved: true" (issue 14.6)', async () => {
    dir = await mkdtemp(join(tmpdir(), 'ls-crash-events-'));
    await eventsSurviveCrashes((d) => ['--db', join(d, 'history.db')], servers, dir);
  });

  it('the same with history in PostgreSQL, whose commit is asynchronous', async () => {
    pg = await startPostgres();
    const url = pg.url;
    const pgDir = await mkdtemp(join(tmpdir(), 'ls-crash-events-pg-'));
    try {
      await eventsSurviveCrashes(
        (d) => ['--store', url, '--db', join(d, 'alerts.db')],
        servers,
        pgDir,
      );
    } finally {
      await rm(pgDir, { recursive: true, force: true });
    }
  });

  it('with PostgreSQL down the answers say history is not saved, and saved again once it is back', async () => {
    pg ??= await startPostgres();
    const db = pg;
    const pgDir = await mkdtemp(join(tmpdir(), 'ls-pg-down-'));
    try {
      const server = await startServer([
        '--root',
        pgDir,
        '--store',
        db.url,
        '--db',
        join(pgDir, 'alerts.db'),
      ]);
      servers.push(server);
      const push = async (phase: string) => {
        const response = await fetch(`${server.url}/api/phase-update`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ session_id: 'pg-down', current_phase: phase, status: 'building' }),
        });
        assert.equal(response.status, 200);
        return (await response.json()) as { saved: boolean; history?: string; message?: string };
      };
      assert.equal((await push('Up')).saved, true);
      await db.stop();
      const down = await push('Down');
      assert.equal(down.saved, false);
      assert.equal(down.history, 'not_saving');
      assert.match(down.message ?? '', /restart before then loses it/);
      await db.start();
      const back = await waitFor(
        async () => {
          const answer = await push(`Back${Date.now()}`);
          return answer.saved ? answer : undefined;
        },
        20_000,
        'saving again',
      );
      assert.equal(back.saved, true);
    } finally {
      await rm(pgDir, { recursive: true, force: true });
    }
  });
});
