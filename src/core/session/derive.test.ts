import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCheckpoint } from './checkpoint.ts';
import { applyUpdate, folderName, type SessionRecord, withWarnings } from './derive.ts';
import { type PhaseDocument, parsePhaseDocument } from './document.ts';
import { buildTimeline, estimateEta } from './timeline.ts';

const T0 = Date.UTC(2025, 0, 13, 0, 30);

function doc(fields: Record<string, unknown>): PhaseDocument {
  const result = parsePhaseDocument({
    session_id: 'weather-app',
    status: 'in_progress',
    ...fields,
  });
  assert.ok(result.ok);
  return result.doc;
}

function step(
  prev: SessionRecord | null,
  fields: Record<string, unknown>,
  at: number,
  projectDir: string | null = '/p/weather-app',
) {
  return applyUpdate(prev, {
    key: 'weather-app',
    doc: doc(fields),
    source: 'file',
    projectDir,
    at,
  });
}

describe('applyUpdate', () => {
  it('creates a session with a first transition and the trustworthy clock', () => {
    const r = step(
      null,
      { current_phase: 'Scout', phase_number: '2/7', started_at: '2025-01-13T00:00:00' },
      T0,
    );
    assert.equal(r.changed, true);
    assert.equal(r.record.status.firstSeenAt, T0);
    assert.equal(r.record.status.changedAt, T0);
    assert.equal(r.record.status.startedAt, Date.UTC(2025, 0, 13, 0, 0));
    assert.equal(r.record.status.progressPercent, 28.6);
    assert.deepEqual(r.transition, {
      sessionKey: 'weather-app',
      from: null,
      to: 'Scout',
      at: T0,
      phaseNumber: '2/7',
      status: 'in_progress',
    });
  });

  it('changes nothing on an identical rewrite, even with keys reordered', () => {
    const first = step(
      null,
      { current_phase: 'Scout', phase_number: '2/7', extra: { a: 1, b: 2 } },
      T0,
    );
    const again = step(
      first.record,
      { extra: { b: 2, a: 1 }, phase_number: '2/7', current_phase: 'Scout' },
      T0 + 5000,
    );
    assert.equal(again.changed, false);
    assert.equal(again.record, first.record);
    assert.equal(again.record.status.changedAt, T0);
  });

  it('moves changedAt when a field changes without a phase change', () => {
    const first = step(null, { current_phase: 'Test', test_iteration: 1 }, T0);
    const next = step(first.record, { current_phase: 'Test', test_iteration: 2 }, T0 + 1000);
    assert.equal(next.changed, true);
    assert.equal(next.transition, null);
    assert.equal(next.record.status.changedAt, T0 + 1000);
  });

  it('treats a case change of the phase name as the same phase', () => {
    const first = step(null, { current_phase: 'Scout' }, T0);
    const next = step(first.record, { current_phase: 'scout' }, T0 + 1000);
    assert.equal(next.transition, null);
  });

  it('falls back to the project folder name when session_id is missing', () => {
    const r = applyUpdate(null, {
      key: 'k',
      doc: doc({ session_id: undefined, current_phase: 'Scout' }),
      source: 'file',
      projectDir: '/home/me/todo-api/',
      at: T0,
    });
    assert.equal(r.record.status.sessionId, 'todo-api');
    assert.equal(folderName('C:\\work\\x'), 'x');
  });

  it('drops LLM timestamps in the future and never lets them order history', () => {
    const first = step(
      null,
      {
        current_phase: 'Scout',
        started_at: '2099-01-01T00:00:00Z',
        last_updated: '2099-01-01T00:00:00Z',
      },
      T0,
    );
    assert.equal(first.record.status.startedAt, null);
    assert.equal(first.record.status.reportedAt, null);
    const second = step(
      first.record,
      { current_phase: 'Architect', last_updated: '2099-01-02T00:00:00Z' },
      T0 + 60_000,
    );
    assert.equal(second.transition?.at, T0 + 60_000);
  });

  it('keeps history ordered when an mtime lags a previous receipt', () => {
    const first = step(null, { current_phase: 'Scout' }, T0 + 10_000);
    const second = step(first.record, { current_phase: 'Architect' }, T0);
    assert.equal(second.transition?.at, T0 + 10_000);
  });

  it('reports progress 100 and no ETA once completed', () => {
    let r = step(null, { current_phase: 'Scout', phase_number: '1/4' }, T0);
    r = step(r.record, { current_phase: 'Architect', phase_number: '2/4' }, T0 + 60_000);
    r = step(r.record, { current_phase: 'Builder', phase_number: '3/4' }, T0 + 120_000);
    assert.equal(r.record.status.etaAt, T0 + 120_000 + 60_000 * 2);
    r = step(
      r.record,
      { current_phase: 'Deploy', phase_number: '4/4', status: 'done' },
      T0 + 180_000,
    );
    assert.equal(r.record.status.state, 'completed');
    assert.equal(r.record.status.progressPercent, 100);
    assert.equal(r.record.status.etaAt, null);
  });

  it('keeps warnings across updates until replaced', () => {
    const first = step(null, { current_phase: 'Scout' }, T0);
    const warned = withWarnings(first.record.status, [
      { code: 'invalid_json', message: 'x', at: T0 },
    ]);
    assert.equal(withWarnings(warned, [{ code: 'invalid_json', message: 'x', at: T0 }]), warned);
    const cleared = withWarnings(warned, []);
    assert.deepEqual(cleared.warnings, []);
  });
});

describe('estimateEta', () => {
  const pn = (raw: string) => doc({ current_phase: 'x', phase_number: raw }).phaseNumber;
  const tr = (to: string, at: number, from: string | null = 'prev') => ({
    sessionKey: 'k',
    from,
    to,
    at,
    phaseNumber: null,
    status: 's',
  });

  it('is null without an observed full phase', () => {
    assert.equal(estimateEta([tr('A', T0, null)], pn('1/7'), 'active'), null);
    assert.equal(estimateEta([tr('A', T0, null), tr('B', T0 + 1000)], pn('2/7'), 'active'), null);
  });

  it('averages observed phases and counts fractional phases left', () => {
    const t = [tr('A', T0, null), tr('B', T0 + 1000), tr('C', T0 + 3000), tr('D', T0 + 7000)];
    // samples: B=2000, C=4000 → 3000 avg; "4.5/8" leaves 4 phases plus the current one.
    assert.equal(estimateEta(t, pn('4.5/8'), 'active'), T0 + 7000 + 3000 * 5);
    assert.equal(estimateEta(t, pn('?/8'), 'active'), null);
    assert.equal(estimateEta(t, pn('4.5/8'), 'failed'), null);
  });
});

describe('buildTimeline', () => {
  it('closes each phase at the next one and leaves the current one open', () => {
    const t = [
      { sessionKey: 'k', from: null, to: 'Scout', at: T0, phaseNumber: '1/7', status: 's' },
      {
        sessionKey: 'k',
        from: 'Scout',
        to: 'Test',
        at: T0 + 500,
        phaseNumber: '4.5/8',
        status: 's',
      },
    ];
    assert.deepEqual(buildTimeline(t, 'active', T0 + 900), [
      { phase: 'Scout', phaseNumber: '1/7', startedAt: T0, endedAt: T0 + 500, durationMs: 500 },
      { phase: 'Test', phaseNumber: '4.5/8', startedAt: T0 + 500, endedAt: null, durationMs: null },
    ]);
    const done = buildTimeline(t, 'completed', T0 + 900);
    assert.equal(done[1]?.durationMs, 400);
  });
});

describe('parseCheckpoint', () => {
  const state = {
    project_name: 'todo',
    task_description: 'Build a todo app',
    session_id: 'todo-123',
    start_time: '2025-01-13T00:00:00',
    iterations: 4,
    completed_tasks: [],
    failed_attempts: [],
    current_phase: 'builder',
    artifacts: {},
    last_iteration_time: '2025-01-13T01:00:00',
    last_phase: 'architect',
  };

  it('maps a legacy state to a session document', () => {
    const r = parseCheckpoint({
      folderId: 'todo-123',
      state,
      progress: {
        completed: ['1: Init'],
        remaining: ['2: API', '3: UI', '4: Tests'],
        notes: ['going'],
      },
      complete: false,
    });
    assert.ok(r.ok);
    assert.equal(r.doc.currentPhase, 'builder');
    assert.equal(r.doc.status, 'in_progress');
    assert.equal(r.doc.progressHint, 25);
    assert.equal(r.doc.progressDetail, 'going');
    assert.equal(r.doc.startedAt, Date.UTC(2025, 0, 13));
    assert.equal(r.doc.extras.project_name, 'todo');
    const applied = applyUpdate(null, {
      key: 'todo-123',
      doc: r.doc,
      source: 'checkpoint',
      projectDir: null,
      at: T0,
    });
    assert.equal(applied.record.status.progressPercent, 25);
    assert.equal(applied.record.status.source, 'checkpoint');
  });

  it('is completed with the COMPLETE flag or the complete phase', () => {
    const flag = parseCheckpoint({ folderId: 'x', state, progress: null, complete: true });
    assert.ok(flag.ok && flag.doc.status === 'completed');
    const phase = parseCheckpoint({
      folderId: 'x',
      state: { current_phase: 'complete' },
      progress: null,
      complete: false,
    });
    assert.ok(phase.ok && phase.doc.status === 'completed' && phase.doc.sessionId === 'x');
  });

  it('rejects a state that is not an object', () => {
    assert.equal(
      parseCheckpoint({ folderId: 'x', state: [1], progress: null, complete: false }).ok,
      false,
    );
  });
});

describe('applyUpdate: the machine (host)', () => {
  const at = (prev: SessionRecord | null, host: string | undefined, t: number) =>
    applyUpdate(prev, {
      key: 'weather-app',
      doc: doc({ current_phase: 'Scout', phase_number: '2/7' }),
      source: 'push',
      projectDir: null,
      at: t,
      ...(host === undefined ? {} : { host }),
    });

  it('takes the update’s host and keeps it when a later update names none', () => {
    const first = at(null, 'ci-1', T0);
    assert.equal(first.record.status.host, 'ci-1');
    const push = at(first.record, undefined, T0 + 1000);
    assert.equal(push.changed, false, 'a push without a host is the same status');
    assert.equal(push.record.status.host, 'ci-1');
  });

  it('leaves the field out when no host is known, so old clients see the same JSON', () => {
    const r = at(null, undefined, T0);
    assert.equal('host' in r.record.status, false);
  });

  it('a different machine for the same document is a change', () => {
    const first = at(null, 'ci-1', T0);
    const moved = at(first.record, 'ci-2', T0 + 1000);
    assert.equal(moved.changed, true);
    assert.equal(moved.record.status.host, 'ci-2');
  });
});
