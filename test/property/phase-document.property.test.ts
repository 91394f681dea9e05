/**
 * Property tests of the phase-file parser and the session derivation
 * (`src/core/session`): whatever an LLM writes into current-phase.json, the
 * parser answers ok or a clear error and never throws; whatever its clocks
 * say, ordering, durations and ETAs stay sane.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  applyUpdate,
  buildTimeline,
  CLOCK_SKEW_MS,
  MAX_SESSION_ID_LENGTH,
  parseCheckpoint,
  parseLlmTimestamp,
  parsePhaseDocument,
  parsePhaseJson,
  parsePhaseNumber,
  progressFromPhase,
  type SessionRecord,
} from '../../src/core/session/index.ts';

const RUNS = { numRuns: 400 };

const anyText = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.string({ unit: 'grapheme' }),
);

/** A value an LLM could put in any field: right type, wrong type, garbage. */
const fieldValue = fc.oneof(
  anyText,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(anyText, { maxLength: 5 }),
  fc.jsonValue({ maxDepth: 2 }),
);

const timestampText = fc.oneof(
  fc
    .date({ noInvalidDate: false })
    .map((d) => (Number.isNaN(d.getTime()) ? 'garbage' : d.toISOString())),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString().replace('Z', '')),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString().replace('T', ' ').slice(0, 19)),
  fc.integer({ min: -1e15, max: 1e15 }),
  fc.double(),
  anyText,
);

const phaseDoc = fc.record(
  {
    session_id: fc.oneof(anyText, fc.integer()),
    current_phase: fc.oneof(
      fc.constantFrom('Scout', 'Architect', 'Builder', 'Test', 'Deploy', 'scout', ' Builder '),
      anyText,
      fieldValue,
    ),
    phase_number: fc.oneof(
      fc.constantFrom('4/7', '4.5/8', '?/7', '7.5/8', '0/0', '-1/7', '1e400/7', ' 3 / 7 '),
      fieldValue,
    ),
    status: fc.oneof(fc.constantFrom('testing', 'completed', 'failed', 'weird'), fieldValue),
    progress_detail: fieldValue,
    test_iteration: fieldValue,
    phases_completed: fieldValue,
    started_at: timestampText,
    last_updated: timestampText,
    extra: fieldValue,
  },
  { requiredKeys: [] },
);

function assertParseResultShape(result: ReturnType<typeof parsePhaseJson>): void {
  if (!result.ok) {
    assert.ok(result.code === 'invalid_json' || result.code === 'invalid_document');
    assert.equal(typeof result.message, 'string');
    assert.ok(result.message.length > 0, 'an error always says what is wrong');
    return;
  }
  const doc = result.doc;
  assert.equal(typeof doc.currentPhase, 'string');
  assert.ok(doc.currentPhase.length > 0);
  assert.equal(typeof doc.status, 'string');
  assert.ok(Array.isArray(doc.phasesCompleted));
  for (const p of doc.phasesCompleted) assert.equal(typeof p, 'string');
  if (doc.sessionId !== null) {
    assert.ok(doc.sessionId.length <= MAX_SESSION_ID_LENGTH);
    assert.ok(
      [...doc.sessionId].every((c) => c.charCodeAt(0) >= 0x20),
      'no control characters in ids',
    );
  }
  for (const t of [doc.startedAt, doc.reportedAt]) {
    if (t !== null) assert.ok(Number.isFinite(t));
  }
  if (doc.testIteration !== null) assert.ok(Number.isInteger(doc.testIteration));
  // The document must survive being stored and pushed.
  JSON.stringify(doc);
}

describe('phase-file parser (property)', () => {
  it('answers any text with ok or a clear error, never a throw', () => {
    fc.assert(
      fc.property(anyText, (text) => assertParseResultShape(parsePhaseJson(text))),
      RUNS,
    );
  });

  it('answers any half-written prefix of a real document', () => {
    fc.assert(
      fc.property(phaseDoc, fc.nat(), (doc, cut) => {
        const full = JSON.stringify(doc);
        assertParseResultShape(parsePhaseJson(full.slice(0, cut % (full.length + 1))));
      }),
      RUNS,
    );
  });

  it('answers any JSON value and any mix of field types', () => {
    fc.assert(
      fc.property(fc.oneof(phaseDoc, fc.jsonValue()), (value) => {
        assertParseResultShape(parsePhaseDocument(value));
        assertParseResultShape(parsePhaseJson(JSON.stringify(value) ?? ''));
      }),
      RUNS,
    );
  });

  it('survives hostile objects: __proto__ keys, huge ids, deep nesting', () => {
    const hostile = [
      JSON.parse('{"__proto__":{"polluted":1},"current_phase":"Scout"}'),
      { current_phase: 'Scout', session_id: 'x'.repeat(MAX_SESSION_ID_LENGTH + 1) },
      { current_phase: 'Scout', session_id: 'a\u0000b' },
      { current_phase: 'Scout', constructor: { prototype: 1 } },
      JSON.parse(`${'['.repeat(2000)}${']'.repeat(2000)}`),
      { status: 'x', extra: JSON.parse(`${'{"a":'.repeat(500)}1${'}'.repeat(500)}`) },
    ];
    for (const value of hostile) assertParseResultShape(parsePhaseDocument(value));
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assertParseResultShape(parsePhaseJson(`${'['.repeat(100_000)}`));
  });

  it('never rounds phase numbers and keeps progress in 0..100', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fieldValue,
          fc.tuple(fc.double(), fc.double()).map(([a, b]) => `${a}/${b}`),
        ),
        (value) => {
          const n = parsePhaseNumber(value);
          if (n.current !== null) assert.ok(Number.isFinite(n.current) && n.current >= 0);
          if (n.total !== null) assert.ok(Number.isFinite(n.total) && n.total > 0);
          for (const completed of [true, false]) {
            const p = progressFromPhase(n, completed);
            if (p !== null) assert.ok(p >= 0 && p <= 100, `progress ${p}`);
          }
        },
      ),
      RUNS,
    );
  });

  it('parses checkpoints of any shape without throwing', () => {
    fc.assert(
      fc.property(
        fc.jsonValue(),
        fc.jsonValue(),
        fc.boolean(),
        anyText,
        (state, progress, complete, folderId) => {
          const result = parseCheckpoint({ folderId: folderId || 'x', state, progress, complete });
          if (!result.ok) assert.ok(result.message.length > 0);
        },
      ),
      RUNS,
    );
  });
});

/** Trustworthy times (mtime/receipt) around now, possibly out of order (mtime lagging). */
const trustedAt = fc.integer({ min: 1_700_000_000_000, max: 1_700_000_000_000 + 86_400_000 });
const llmTime = fc.oneof(
  fc.constant(undefined),
  fc.integer({ min: -8_640_000_000_000_000, max: 8_640_000_000_000_000 }).map((ms) => {
    const d = new Date(ms);
    return Number.isNaN(d.getTime()) ? 'nonsense' : d.toISOString();
  }),
  fc.constantFrom(
    '2199-12-31T23:59:59',
    '1970-01-01T00:00:00Z',
    '2000-01-01',
    '9999-01-01T00:00:00Z',
  ),
  fc.integer({ min: 0, max: 9_999_999_999_999 }),
);
const update = fc.record({
  phase: fc.constantFrom('Scout', 'Architect', 'Builder', 'Test', 'Deploy', 'scout'),
  number: fc.constantFrom('1/7', '2/7', '4.5/8', '?/7', '7/7', undefined),
  status: fc.constantFrom('in_progress', 'testing', 'completed', 'failed', 'wat'),
  at: trustedAt,
  startedAt: llmTime,
  reportedAt: llmTime,
});

describe('clocks (property)', () => {
  it('LLM timestamps in the future or far past never break ordering, durations or ETAs', () => {
    fc.assert(
      fc.property(fc.array(update, { minLength: 1, maxLength: 40 }), (updates) => {
        let record: SessionRecord | null = null;
        let maxAt = 0;
        for (const u of updates) {
          const parsed = parsePhaseDocument({
            session_id: 's',
            current_phase: u.phase,
            phase_number: u.number,
            status: u.status,
            started_at: u.startedAt,
            last_updated: u.reportedAt,
          });
          assert.ok(parsed.ok);
          const result = applyUpdate(record, {
            key: 's',
            doc: parsed.doc,
            source: 'file',
            projectDir: null,
            at: u.at,
          });
          record = result.record;
          maxAt = Math.max(maxAt, u.at);
          const s = record.status;
          // Trustworthy clocks only move forward, whatever order mtimes arrive in.
          assert.ok(s.changedAt <= maxAt && s.changedAt >= s.firstSeenAt);
          // LLM times later than the trustworthy clock are not believed.
          if (s.startedAt !== null) assert.ok(s.startedAt <= s.firstSeenAt + CLOCK_SKEW_MS);
          if (s.reportedAt !== null) assert.ok(s.reportedAt <= s.changedAt + CLOCK_SKEW_MS);
          const transitions = record.transitions;
          for (let i = 1; i < transitions.length; i++) {
            const prev = transitions[i - 1];
            const cur = transitions[i];
            assert.ok(prev && cur && cur.at >= prev.at, 'transitions in time order');
          }
          const timeline = buildTimeline(transitions, s.state, s.changedAt);
          assert.equal(timeline.length, transitions.length);
          for (const row of timeline) {
            if (row.durationMs !== null) assert.ok(row.durationMs >= 0, 'no negative duration');
            if (row.endedAt !== null) assert.ok(row.endedAt >= row.startedAt);
          }
          if (s.etaAt !== null) {
            assert.equal(s.state, 'active');
            const current = transitions.at(-1);
            assert.ok(current && s.etaAt >= current.at, 'an ETA is never before the phase began');
            assert.ok(Number.isFinite(s.etaAt));
          }
          if (s.progressPercent !== null)
            assert.ok(s.progressPercent >= 0 && s.progressPercent <= 100);
        }
      }),
      RUNS,
    );
  });

  it('parses any timestamp to null or a plausible instant', () => {
    fc.assert(
      fc.property(fc.oneof(timestampText, fieldValue), (value) => {
        const ms = parseLlmTimestamp(value);
        if (ms !== null) {
          assert.ok(Number.isFinite(ms));
          assert.ok(ms >= Date.UTC(2000, 0, 1) && ms <= Date.UTC(2200, 0, 1));
        }
      }),
      RUNS,
    );
  });
});
