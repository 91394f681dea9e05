import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rng, sessionStatus } from '../../../test/helpers/fixtures.ts';
import { FIELD_LIMITS } from './bounds.ts';
import { parseCheckpoint } from './checkpoint.ts';
import { parsePhaseDocument } from './document.ts';
import { cutText, MAX_EXTRA_FIELDS, MAX_EXTRAS_CHARS } from './extras.ts';
import { SessionsList, sessionsTopicData } from './list.ts';

const MB = 'z'.repeat(1024 * 1024);

function mustParse(value: unknown) {
  const result = parsePhaseDocument(value);
  assert.ok(result.ok, result.ok ? '' : result.message);
  return result.doc;
}

describe('field bounds', () => {
  it('cuts megabyte fields to their limits, marked with …', () => {
    const doc = mustParse({
      session_id: 's',
      current_phase: MB,
      status: MB,
      phase_number: MB,
      progress_detail: MB,
      phases_completed: Array.from({ length: 5000 }, (_, i) => `${i}${MB.slice(0, 500)}`),
    });
    assert.equal(doc.currentPhase.length, FIELD_LIMITS.phase);
    assert.ok(doc.currentPhase.endsWith('…'));
    assert.equal(doc.status.length, FIELD_LIMITS.status);
    assert.equal(doc.phaseNumber.raw?.length, FIELD_LIMITS.phaseNumber);
    assert.equal(doc.progressDetail?.length, FIELD_LIMITS.progressDetail);
    assert.equal(doc.phasesCompleted.length, FIELD_LIMITS.phasesCompleted);
    assert.ok(doc.phasesCompleted.every((p) => p.length <= FIELD_LIMITS.phase));
    assert.ok(JSON.stringify(doc).length < 16 * 1024);
  });

  it('keeps ordinary documents exactly as written', () => {
    const doc = mustParse({
      session_id: 'w',
      current_phase: 'Builder',
      status: 'building',
      progress_detail: 'Writing the API',
      phases_completed: ['Scout', 'Architect'],
      parallel_execution: true,
      tasks_completed: 3,
    });
    assert.equal(doc.currentPhase, 'Builder');
    assert.deepEqual(doc.extras, { parallel_execution: true, tasks_completed: 3 });
    assert.equal(doc.extrasOmitted, undefined);
  });

  it('bounds the extras: field count, total size, key length, objects of many small keys', () => {
    const body: Record<string, unknown> = { session_id: 's', current_phase: 'Builder' };
    for (let k = 0; k < 1000; k++) body[`k${k}`] = 'x'.repeat(1000);
    body[`long${MB.slice(0, 5000)}`] = 1;
    body.many = Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`f${i}`, i]));
    const doc = mustParse(body);
    const keys = Object.keys(doc.extras);
    assert.ok(keys.length <= MAX_EXTRA_FIELDS);
    assert.ok(JSON.stringify(doc.extras).length <= MAX_EXTRAS_CHARS);
    // Left out, plus the one kept under a cut name.
    assert.equal(doc.extrasOmitted, 1002 - keys.length + 1);
    assert.ok(keys.some((k) => k.startsWith('long') && k.length === 100));
  });

  it('keeps fields named like Object.prototype members, and __proto__ as a plain field', () => {
    const doc = mustParse(
      JSON.parse(
        '{"session_id":"s","current_phase":"B","toString":1,"constructor":2,"__proto__":{"polluted":true}}',
      ),
    );
    assert.equal(doc.extras.toString, 1);
    assert.equal(doc.extras.constructor, 2);
    assert.ok(Object.hasOwn(doc.extras, '__proto__'));
    assert.equal(Object.getPrototypeOf(doc.extras), Object.prototype);
    assert.equal(({} as { polluted?: boolean }).polluted, undefined);
    assert.equal(doc.extrasOmitted, undefined);
  });

  it('bounds checkpoints too, and a session_id too long for a key falls back to the folder', () => {
    const result = parseCheckpoint({
      folderId: 'folder',
      state: { session_id: MB, current_phase: MB, task_description: MB, artifacts: { spec: MB } },
      progress: null,
      complete: false,
    });
    assert.ok(result.ok);
    assert.equal(result.doc.sessionId, 'folder');
    assert.equal(result.doc.currentPhase.length, FIELD_LIMITS.phase);
    assert.ok(JSON.stringify(result.doc).length < 16 * 1024);
  });

  it('never cuts between the halves of a surrogate pair', () => {
    const cut = cutText('a😀😀😀', 3);
    assert.equal(cut, 'a…');
    assert.equal(cutText('short', 10), 'short');
  });
});

describe('the sessions topic budget', () => {
  const statuses = Array.from({ length: 40 }, (_, i) =>
    sessionStatus(`s${i}`, {
      state: i < 5 ? 'active' : 'completed',
      changedAt: 1000 + i,
      progressDetail: 'd'.repeat(900),
      extras: { big: 'e'.repeat(1500) },
    }),
  );
  const pairs = statuses.map((s) => [s.id, s] as const);

  it('carries every session without its extras while they fit', () => {
    const data = sessionsTopicData(pairs);
    assert.equal(Object.keys(data.sessions).length, 40);
    assert.equal(data.omitted, undefined);
    assert.deepEqual(data.sessions.s3?.extras, {});
    assert.equal(data.sessions.s3?.progressDetail?.length, 900);
    // The same object for an unchanged status, so a diff skips it by identity.
    assert.equal(sessionsTopicData(pairs).sessions.s3, data.sessions.s3);
  });

  it('past the budget summarises older sessions before leaving any out', () => {
    const budget = 24 * 1024;
    const data = sessionsTopicData(pairs, budget);
    assert.ok(JSON.stringify(data.sessions).length <= budget + 64);
    assert.equal(Object.keys(data.sessions).length, 40);
    assert.equal(data.omitted, undefined);
    assert.equal(data.sessions.s39?.progressDetail?.length, 900, 'the newest is whole');
    assert.equal(data.sessions.s0?.progressDetail?.length, 900, 'a live one is whole');
    assert.equal(data.sessions.s5?.progressDetail, null, 'the oldest finished is summarised');
  });

  it('then leaves out finished sessions, oldest first, counting them', () => {
    const budget = 6 * 1024;
    const data = sessionsTopicData(pairs, budget);
    assert.ok(JSON.stringify(data.sessions).length <= budget + 64);
    const kept = Object.keys(data.sessions);
    assert.ok((data.omitted ?? 0) > 0);
    assert.equal(kept.length + (data.omitted ?? 0), 40);
    for (let i = 0; i < 5; i++) assert.ok(kept.includes(`s${i}`), `active s${i} kept`);
    assert.ok(kept.includes('s39'), 'the newest finished session kept');
    assert.ok(!kept.includes('s5'), 'the oldest finished session left out');
  });

  it('with more sessions than fit even summarised, the newest keep their detail', () => {
    const many = Array.from({ length: 500 }, (_, i) => {
      const status = sessionStatus(`m${i}`, {
        state: 'completed',
        changedAt: i,
        progressDetail: 'd'.repeat(900),
      });
      return [status.id, status] as const;
    });
    const budget = 64 * 1024;
    const data = sessionsTopicData(many, budget);
    assert.ok(JSON.stringify(data.sessions).length <= budget + 64);
    assert.ok((data.omitted ?? 0) > 0);
    assert.equal(data.sessions.m499?.progressDetail?.length, 900, 'the newest whole');
    const whole = Object.values(data.sessions).filter((x) => x.progressDetail !== null).length;
    assert.ok(whole > 5 && whole < Object.keys(data.sessions).length, `${whole} whole`);
  });

  it('kept as sessions change, equals the list built from scratch (random changes)', () => {
    for (const seed of [1, 2, 3]) {
      const random = rng(seed);
      const list = new SessionsList(12 * 1024);
      const current = new Map<string, ReturnType<typeof sessionStatus>>();
      for (let step = 0; step < 400; step++) {
        const key = `k${Math.floor(random() * 60)}`;
        if (random() < 0.2) {
          list.delete(key);
          current.delete(key);
        } else {
          const status = sessionStatus(key, {
            state: random() < 0.2 ? 'active' : 'completed',
            changedAt: step,
            progressDetail: 'x'.repeat(Math.floor(random() * 900)),
          });
          list.set(key, status);
          current.set(key, status);
        }
        if (step % 20 === 0) assert.deepEqual(list.data(), sessionsTopicData(current, 12 * 1024));
      }
    }
  });
});
