import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import {
  planText,
  tempDir,
  writeFixtureFile,
  writePlan,
} from '../../test/helpers/plan-fixtures.ts';
import { startServer } from '../../test/helpers/server.ts';
import { DEFAULT_COMMANDS } from '../sources/plans/actions.ts';
import type { BuildsState } from '../tui/state.ts';
import { buildsSource } from './plans-builds.ts';
import { PlansController, type PlansState } from './plans-host.ts';

const { dir: tmp, cleanup } = tempDir('livestream-builds-');
after(cleanup);
let n = 0;

type Builds = Omit<BuildsState, 'url'>;

/** A builds source started on a real server, with every state it reported. */
function watch(url: string, token?: string) {
  const source = buildsSource(url, token);
  const seen: Builds[] = [];
  const waiters = new Set<() => void>();
  source.start((state) => {
    seen.push(state);
    for (const w of waiters) w();
  });
  const until = (pred: (s: Builds) => boolean, what: string, ms = 10_000): Promise<Builds> =>
    new Promise((resolve, reject) => {
      const check = () => {
        const last = seen.at(-1);
        if (!last || !pred(last)) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(last);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`timed out waiting for ${what}; last: ${JSON.stringify(seen.at(-1))}`));
      }, ms);
      waiters.add(check);
      check();
    });
  return { source, seen, until };
}

/** A project folder with a phase file, as an orchestrator writes it. */
function writePhase(root: string, project: string, fields: Record<string, unknown>): void {
  const dir = join(root, project, '.context-foundry');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'current-phase.json'),
    JSON.stringify({ session_id: project, phase_number: '2/7', ...fields }),
  );
}

async function server(args: string[] = []) {
  const root = join(tmp, `root${++n}`);
  mkdirSync(root, { recursive: true });
  const s = await startServer(['--root', root, '--db', join(tmp, `db${n}.sqlite`), ...args]);
  return { ...s, root, n };
}

describe('the Builds screen source against a real server', () => {
  test('shows a session from a phase file and follows its changes', async (t) => {
    const s = await server();
    t.after(() => s.stop());
    writePhase(s.root, 'weather-app', { current_phase: 'Scout', status: 'researching' });
    const w = watch(s.url);
    t.after(() => w.source.close());

    const first = await w.until(
      (b) => b.status === 'connected' && b.sessions.length === 1,
      'the session',
    );
    assert.equal(first.error, null);
    const [session] = first.sessions;
    assert.equal(session?.id, 'weather-app');
    assert.equal(session?.currentPhase, 'Scout');
    assert.equal(session?.state, 'active');

    writePhase(s.root, 'weather-app', { current_phase: 'Builder', status: 'building' });
    const changed = await w.until(
      (b) => b.sessions[0]?.currentPhase === 'Builder',
      'the phase change',
    );
    assert.equal(changed.sessions[0]?.status, 'building');

    writePhase(s.root, 'api', { current_phase: 'Architect', status: 'designing' });
    writePhase(s.root, 'weather-app', {
      current_phase: 'Feedback',
      phase_number: '7/7',
      status: 'completed',
    });
    const ordered = await w.until(
      (b) => b.sessions.length === 2 && b.sessions.some((x) => x.state === 'completed'),
      'a second session and a finished one',
    );
    assert.deepEqual(
      ordered.sessions.map((x) => [x.id, x.state]),
      [
        ['api', 'active'],
        ['weather-app', 'completed'],
      ],
      'active sessions first',
    );
  });

  test('says when the server goes away, then shows the sessions again when it is back', async (t) => {
    const s = await server();
    t.after(() => s.stop());
    writePhase(s.root, 'weather-app', { current_phase: 'Scout', status: 'researching' });
    const w = watch(s.url);
    t.after(() => w.source.close());
    await w.until((b) => b.status === 'connected' && b.sessions.length === 1, 'the session');
    await s.stop();
    const down = await w.until((b) => b.status === 'disconnected', 'the disconnect');
    assert.equal(down.error, `cannot reach ${s.url}`);
    assert.equal(down.sessions.length, 1, 'the last sessions stay on screen');

    // Same port, same history: the source reconnects by itself.
    const port = new URL(s.url).port;
    const again = await startServer([
      '--root',
      s.root,
      '--db',
      join(tmp, `db${s.n}.sqlite`),
      '--port',
      port,
    ]);
    t.after(() => again.stop());
    assert.equal(again.url, s.url);
    const back = await w.until(
      (b) => b.status === 'connected' && b.sessions.length === 1,
      'the reconnection',
      15_000,
    );
    assert.equal(back.error, null);
    assert.equal(back.sessions[0]?.id, 'weather-app');
  });

  test('a server with a token: the right token connects; none or a wrong one is explained', async (t) => {
    const s = await server(['--token', 'sesame']);
    t.after(() => s.stop());
    writePhase(s.root, 'weather-app', { current_phase: 'Scout', status: 'researching' });
    const good = watch(s.url, 'sesame');
    t.after(() => good.source.close());
    await good.until((b) => b.status === 'connected' && b.sessions.length === 1, 'the session');

    const none = watch(s.url);
    t.after(() => none.source.close());
    const missing = await none.until(
      (b) => b.status === 'disconnected' && b.error !== `cannot reach ${s.url}`,
      'the reason without a token',
    );
    assert.equal(
      missing.error,
      `${s.url} requires a token: pass --token (or set LIVESTREAM_TOKEN)`,
    );
    assert.deepEqual(missing.sessions, []);

    const wrong = watch(s.url, 'open sesame');
    t.after(() => wrong.source.close());
    const refused = await wrong.until(
      (b) => b.status === 'disconnected' && b.error !== `cannot reach ${s.url}`,
      'the reason with a wrong token',
    );
    assert.equal(refused.error, `${s.url} refused the token: check --token (or LIVESTREAM_TOKEN)`);
    assert.ok(
      none.seen.every((b) => b.status !== 'connected') &&
        wrong.seen.every((b) => b.status !== 'connected'),
    );
  });

  test('the plans controller holds what the Builds view renders', async (t) => {
    const s = await server();
    t.after(() => s.stop());
    writePhase(s.root, 'weather-app', { current_phase: 'Scout', status: 'researching' });
    const plansDir = join(tmp, `plans${n}`);
    writePlan(plansDir, 'DEMO', [{ path: 'PLAN_DEMO.md', text: planText('Demo', [['1.1', 'A']]) }]);
    const controller = new PlansController({
      plansDir,
      config: { commands: { ...DEFAULT_COMMANDS }, cwd: tmp, timeoutMs: 10_000, source: 'test' },
      debounceMs: 20,
      builds: { url: s.url, source: buildsSource(s.url) },
    });
    t.after(() => controller.close());
    const until = (pred: (st: PlansState) => boolean, what: string) =>
      new Promise<PlansState>((resolve, reject) => {
        const check = () => {
          if (!pred(controller.getState())) return;
          off();
          clearTimeout(timer);
          resolve(controller.getState());
        };
        const off = controller.subscribe(check);
        const timer = setTimeout(() => {
          off();
          reject(
            new Error(
              `timed out waiting for ${what}: ${JSON.stringify(controller.getState().builds)}`,
            ),
          );
        }, 10_000);
        check();
      });
    await controller.start();
    const shown = await until(
      (st) => st.builds.status === 'connected' && st.builds.sessions.length === 1,
      'the session in the controller',
    );
    assert.equal(shown.builds.url, s.url);
    assert.equal(shown.builds.sessions[0]?.currentPhase, 'Scout');
    writePhase(s.root, 'weather-app', { current_phase: 'Builder', status: 'building' });
    await until((st) => st.builds.sessions[0]?.currentPhase === 'Builder', 'the change');
  });
  test('with plans from the server: the plans/plan:<id> topics fill the state and follow changes', async (t) => {
    const s = await server();
    t.after(() => s.stop());
    const plansDir = join(s.root, 'proj', 'work-space', 'plans');
    const dir = writePlan(plansDir, 'REMOTE', [
      {
        path: 'PLAN_REMOTE.md',
        text: planText('Remote', [
          ['1.1', 'A'],
          ['1.2', 'B'],
        ]),
      },
    ]);
    const controller = new PlansController({
      plansDir: tmp,
      config: { commands: { ...DEFAULT_COMMANDS }, cwd: tmp, timeoutMs: 10_000, source: 'test' },
      builds: { url: s.url, source: buildsSource(s.url) },
      plansFromServer: true,
    });
    t.after(() => controller.close());
    const until = (pred: (st: PlansState) => boolean, what: string) =>
      new Promise<PlansState>((resolve, reject) => {
        const check = () => {
          if (!pred(controller.getState())) return;
          off();
          clearTimeout(timer);
          resolve(controller.getState());
        };
        const off = controller.subscribe(check);
        const timer = setTimeout(() => {
          off();
          reject(new Error(`timed out waiting for ${what}`));
        }, 10_000);
        check();
      });
    await controller.start();
    const first = await until((st) => st.loadedAt !== null && st.plans.length === 1, 'the plan');
    assert.equal(first.watch.mode, 'server');
    assert.equal(first.plans[0]?.id, 'REMOTE');
    assert.equal(first.plans[0]?.path, dir);
    assert.equal(first.plans[0]?.progress.total, 2);
    writeFixtureFile(dir, { path: 'execution/feedbacks/APPROVED_11.md' });
    const changed = await until(
      (st) => st.plans[0]?.achievements[0]?.status === 'approved',
      'the approval, read by the server',
    );
    assert.equal(changed.plans[0]?.progress.done, 1);
  });
});
