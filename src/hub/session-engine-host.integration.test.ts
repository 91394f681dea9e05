import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { pino } from 'pino';
import { parsePhaseDocument } from '../core/session/document.ts';
import { SqliteStore } from '../store/sqlite-store.ts';
import { MemoryHub } from './hub.ts';
import { LogBook } from './logbook.ts';
import { SessionEngine } from './session-engine.ts';

const silent = pino({ level: 'silent' });
const T0 = Date.UTC(2026, 11, 4, 1, 0);
const temps: string[] = [];
after(async () => {
  for (const dir of temps) await rm(dir, { recursive: true, force: true });
});

function engineOn(store: SqliteStore, host?: string): SessionEngine {
  const hub = new MemoryHub();
  return new SessionEngine({
    hub,
    store,
    logs: new LogBook(hub),
    logger: silent,
    ...(host === undefined ? {} : { host }),
  });
}

const raw = (sessionId: string, phase = 'Scout') => ({
  session_id: sessionId,
  current_phase: phase,
  phase_number: '2/7',
  status: 'in_progress',
});

/** A phase file's event; `dir` under `/@host/` with `host` set is how the forward ingest hands one over. */
function document(sessionId: string, dir: string, at: number, host?: string) {
  const body = raw(sessionId);
  const parsed = parsePhaseDocument(body);
  assert.ok(parsed.ok);
  return {
    kind: 'document' as const,
    value: {
      path: `${dir}/.context-foundry/current-phase.json`,
      projectDir: dir,
      source: 'file' as const,
      doc: parsed.doc,
      raw: body,
      at,
      ...(host === undefined ? {} : { host }),
    },
  };
}

const hosts = (engine: SessionEngine) =>
  Object.fromEntries(engine.list().map((s) => [s.id, s.host ?? '(none)']));

it('local sessions are the server’s machine, forwarded ones their own; old stored rows are read the same way', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ls-engine-host-'));
  temps.push(dir);
  const path = join(dir, 'history.db');

  // Rows as a server before the field stored them: no host anywhere.
  let store = SqliteStore.open(path, { logger: silent });
  const old = engineOn(store);
  old.apply(document('weather-app', '/home/me/weather-app', T0));
  old.apply(document('weather-app@ci-1', '/@ci-1/home/me/weather-app', T0));
  assert.deepEqual(hosts(old), { 'weather-app': '(none)', 'weather-app@ci-1': '(none)' });
  old.close();
  await store.close();

  store = SqliteStore.open(path, { logger: silent });
  const engine = engineOn(store, 'central');
  after(async () => {
    engine.close();
    await store.close();
  });
  await engine.restore();
  assert.deepEqual(hosts(engine), { 'weather-app': 'central', 'weather-app@ci-1': 'ci-1' });

  // New events: the forward ingest's host, else this machine.
  engine.apply(document('weather-app@ci-2', '/@ci-2/home/me/weather-app', T0 + 1000, 'ci-2'));
  engine.apply(document('rusty', '/home/me/rusty', T0 + 1000));
  // A push names no machine: it goes to the session's own, or this one for a new session.
  const push = engine.ingestPush(raw('weather-app@ci-2', 'Architect'), T0 + 2000);
  assert.ok(push.ok);
  const fresh = engine.ingestPush(raw('pushed-app'), T0 + 2000);
  assert.ok(fresh.ok);
  assert.deepEqual(hosts(engine), {
    'weather-app': 'central',
    'weather-app@ci-1': 'ci-1',
    'weather-app@ci-2': 'ci-2',
    rusty: 'central',
    'pushed-app': 'central',
  });
  assert.equal(engine.get('weather-app@ci-2')?.status.currentPhase, 'Architect');
});
