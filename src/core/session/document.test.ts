import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePhaseDocument, parsePhaseJson } from './document.ts';
import { parsePhaseNumber, progressFromPhase, remainingPhases } from './phase-number.ts';
import { stateFromStatus } from './state.ts';
import { parseLlmTimestamp } from './timestamps.ts';

const sample = {
  session_id: 'weather-app',
  current_phase: 'Test',
  phase_number: '4/7',
  status: 'testing',
  progress_detail: 'Running test suite',
  test_iteration: 2,
  phases_completed: ['Codebase Analysis', 'Scout', 'Architect', 'Builder'],
  started_at: '2025-01-13T00:30:00Z',
  last_updated: '2025-01-13T00:35:00Z',
};

function mustParse(value: unknown) {
  const result = parsePhaseDocument(value);
  assert.ok(result.ok, result.ok ? '' : result.message);
  return result.doc;
}

describe('phase_number', () => {
  it('parses whole, fractional, re-based and unknown numbers', () => {
    assert.deepEqual(parsePhaseNumber('4/7'), { raw: '4/7', current: 4, total: 7 });
    assert.deepEqual(parsePhaseNumber('4.5/8'), { raw: '4.5/8', current: 4.5, total: 8 });
    assert.deepEqual(parsePhaseNumber('5/8'), { raw: '5/8', current: 5, total: 8 });
    assert.deepEqual(parsePhaseNumber('?/7'), { raw: '?/7', current: null, total: 7 });
    assert.deepEqual(parsePhaseNumber(undefined), { raw: null, current: null, total: null });
    assert.deepEqual(parsePhaseNumber('3'), { raw: '3', current: 3, total: null });
    assert.deepEqual(parsePhaseNumber('x/y'), { raw: 'x/y', current: null, total: null });
    assert.deepEqual(parsePhaseNumber('2/0'), { raw: '2/0', current: 2, total: null });
    assert.deepEqual(parsePhaseNumber({}), { raw: null, current: null, total: null });
  });

  it('gives a clamped percent, 100 when completed, null when unknown', () => {
    assert.equal(progressFromPhase(parsePhaseNumber('4.5/8'), false), 56.3);
    assert.equal(progressFromPhase(parsePhaseNumber('9/8'), false), 100);
    assert.equal(progressFromPhase(parsePhaseNumber('?/7'), false), null);
    assert.equal(progressFromPhase(parsePhaseNumber('?/7'), true), 100);
    assert.equal(remainingPhases(parsePhaseNumber('4.5/8')), 4);
    assert.equal(remainingPhases(parsePhaseNumber('4/7')), 3);
    assert.equal(remainingPhases(parsePhaseNumber('?/7')), null);
  });
});

describe('status → state', () => {
  it('maps known statuses and keeps unknown ones active', () => {
    for (const s of ['completed', 'complete', 'Done', 'success']) {
      assert.equal(stateFromStatus(s), 'completed');
    }
    for (const s of ['failed', 'ERROR', 'aborted']) assert.equal(stateFromStatus(s), 'failed');
    for (const s of ['testing', 'self-healing', 'pondering'])
      assert.equal(stateFromStatus(s), 'active');
  });
});

describe('LLM timestamps', () => {
  it('treats a zone-less time as UTC', () => {
    assert.equal(parseLlmTimestamp('2025-01-13T00:30:00'), Date.UTC(2025, 0, 13, 0, 30));
    assert.equal(parseLlmTimestamp('2025-01-13 00:30:00'), Date.UTC(2025, 0, 13, 0, 30));
    assert.equal(parseLlmTimestamp('2025-01-13T02:30:00+02:00'), Date.UTC(2025, 0, 13, 0, 30));
    assert.equal(parseLlmTimestamp('2025-01-13'), Date.UTC(2025, 0, 13));
  });

  it('accepts epoch seconds and milliseconds', () => {
    assert.equal(parseLlmTimestamp(1_736_728_200), 1_736_728_200_000);
    assert.equal(parseLlmTimestamp(1_736_728_200_000), 1_736_728_200_000);
  });

  it('turns garbage into null without throwing', () => {
    for (const v of [
      'yesterday',
      '',
      '2025-13-45T99:99:99',
      '99999-01-01',
      null,
      {},
      [],
      -5,
      NaN,
    ]) {
      assert.equal(parseLlmTimestamp(v), null, String(v));
    }
  });
});

describe('current-phase.json', () => {
  it('parses the documented example', () => {
    const doc = mustParse(sample);
    assert.equal(doc.sessionId, 'weather-app');
    assert.equal(doc.currentPhase, 'Test');
    assert.equal(doc.status, 'testing');
    assert.equal(doc.testIteration, 2);
    assert.equal(doc.phasesCompleted.length, 4);
    assert.equal(doc.startedAt, Date.UTC(2025, 0, 13, 0, 30));
    assert.deepEqual(doc.extras, {});
  });

  it('keeps unknown fields and statuses verbatim', () => {
    const doc = mustParse({
      ...sample,
      status: 'contemplating',
      parallel_execution: true,
      tasks_completed: 3,
    });
    assert.equal(doc.status, 'contemplating');
    assert.deepEqual(doc.extras, { parallel_execution: true, tasks_completed: 3 });
  });

  it('survives a missing session_id, test_iteration and phase_number', () => {
    const { session_id: _s, test_iteration: _t, phase_number: _p, ...rest } = sample;
    const doc = mustParse(rest);
    assert.equal(doc.sessionId, null);
    assert.equal(doc.testIteration, null);
    assert.deepEqual(doc.phaseNumber, { raw: null, current: null, total: null });
  });

  it('reads a string test_iteration and ignores a nonsense one', () => {
    assert.equal(mustParse({ ...sample, test_iteration: '3' }).testIteration, 3);
    assert.equal(mustParse({ ...sample, test_iteration: 'many' }).testIteration, null);
    assert.equal(mustParse({ ...sample, test_iteration: 1.5 }).testIteration, null);
  });

  it('keeps lowercase and renamed phases as written', () => {
    assert.equal(mustParse({ ...sample, current_phase: 'scout' }).currentPhase, 'scout');
    assert.equal(mustParse({ ...sample, current_phase: 'Test Loop' }).currentPhase, 'Test Loop');
  });

  it('tolerates wrong types in optional fields', () => {
    const doc = mustParse({
      ...sample,
      phases_completed: 'Scout',
      progress_detail: 42,
      started_at: 'soon',
      session_id: 7,
    });
    assert.deepEqual(doc.phasesCompleted, []);
    assert.equal(doc.progressDetail, '42');
    assert.equal(doc.startedAt, null);
    assert.equal(doc.sessionId, '7');
  });

  it('rejects what is not a session document, saying why', () => {
    const cases: [string, string][] = [
      ['', 'empty'],
      ['{"session_id":"x","current_phase":"Te', 'not valid JSON'],
      ['[1,2]', 'expected a JSON object'],
      ['"text"', 'expected a JSON object'],
      ['{"session_id":"x"}', 'current_phase'],
      [JSON.stringify({ ...sample, session_id: 'x'.repeat(300) }), 'longer than'],
      [JSON.stringify({ ...sample, session_id: 'a\nb' }), 'control characters'],
    ];
    for (const [text, message] of cases) {
      const result = parsePhaseJson(text);
      assert.equal(result.ok, false, text);
      if (!result.ok) assert.match(result.message, new RegExp(message), text);
    }
  });
});
