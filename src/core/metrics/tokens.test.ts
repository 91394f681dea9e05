import assert from 'node:assert/strict';
import { test } from 'node:test';
import { budgetLevel, readSessionLogLine, TokenLedger, type TokenReading } from './tokens.ts';

const r = (at: number, input: number, output: number): TokenReading => ({
  at,
  input,
  output,
  totalInput: null,
  totalOutput: null,
  contextPercent: null,
  model: null,
});

test('reads the figures of a session.jsonl line; lines without figures are null', () => {
  const reading = readSessionLogLine({
    timestamp: '2025-01-13T00:30:00Z',
    metadata: { input_tokens: 10, output_tokens: '5', context_percentage: 4.2, model: 'm' },
  });
  assert.deepEqual(reading, {
    at: Date.parse('2025-01-13T00:30:00Z'),
    input: 10,
    output: 5,
    totalInput: null,
    totalOutput: null,
    contextPercent: 4.2,
    model: 'm',
  });
  assert.equal(readSessionLogLine({ metadata: { model: 'm' } }), null);
  assert.equal(readSessionLogLine({ metadata: { input_tokens: -3 } }), null);
  assert.equal(readSessionLogLine('text'), null);
  assert.equal(readSessionLogLine(null), null);
});

test('budget levels: warning from 50 %, critical from 75 %', () => {
  assert.equal(budgetLevel(49.99), 'ok');
  assert.equal(budgetLevel(50), 'warning');
  assert.equal(budgetLevel(75), 'critical');
});

test('the series is bounded; totals and byPhase stay exact', () => {
  const ledger = new TokenLedger(10);
  for (let i = 0; i < 100; i++) ledger.add(r(i * 1000, 10, 1), i < 50 ? 'A' : 'B', 0);
  const usage = ledger.usage(200_000);
  assert.ok(usage);
  assert.ok(usage.series.length <= 10);
  assert.equal(usage.input, 1000);
  assert.equal(usage.output, 100);
  assert.equal(
    usage.series.reduce((s, p) => s + p.input, 0),
    1000,
  );
  assert.deepEqual(usage.byPhase, { A: { input: 500, output: 50 }, B: { input: 500, output: 50 } });
  assert.equal(usage.series.at(-1)?.cumulativeInput, 1000);
  assert.equal(usage.percentOfBudget, 0.55);
});

test('after a replay starts, lines at or before the newest counted one are skipped', () => {
  const ledger = new TokenLedger();
  ledger.add(r(1000, 1, 0), null, 0);
  ledger.add(r(2000, 2, 0), null, 0);
  ledger.add(r(2000, 3, 0), null, 0);
  ledger.beginReplay();
  assert.equal(ledger.add(r(1000, 1, 0), null, 0), null);
  assert.equal(ledger.add(r(2000, 3, 0), null, 0), null);
  assert.notEqual(ledger.add(r(2000, 4, 0), null, 0), null, 'same second, different figures');
  assert.notEqual(ledger.add(r(3000, 5, 0), null, 0), null);
  assert.notEqual(ledger.add(r(2500, 6, 0), null, 0), null, 'replay ended: late lines count');
  assert.equal(ledger.usage(100)?.input, 21);
});

test('load() rebuilds from stored points and drops duplicates', () => {
  const ledger = new TokenLedger();
  const p = {
    at: 5,
    input: 3,
    output: 1,
    cumulativeInput: 3,
    cumulativeOutput: 1,
    contextPercent: null,
    model: 'm',
    phase: 'X',
  };
  ledger.load([p, { ...p }, { ...p, at: 6, cumulativeInput: 6, cumulativeOutput: 2 }]);
  assert.equal(ledger.usage(100)?.total, 8);
  assert.equal(ledger.usage(100)?.model, 'm');
  assert.equal(new TokenLedger().usage(100), null);
});
