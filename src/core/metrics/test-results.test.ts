import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDuration, parseTestResults, testIterationOf } from './test-results.ts';

test('pytest summary line', () => {
  const text = [
    '# Test Results - Iteration 2',
    'tests/test_api.py::test_get PASSED',
    'tests/test_api.py::test_post FAILED',
    '=========== short test summary info ===========',
    'FAILED tests/test_api.py::test_post - AssertionError',
    '====== 5 passed, 2 failed, 1 skipped in 3.21s ======',
  ].join('\n');
  assert.deepEqual(parseTestResults(text), {
    total: 8,
    passed: 5,
    failed: 2,
    skipped: 1,
    durationMs: 3210,
  });
});

test('plain "5 passed, 2 failed in 3.2s" and errors count as failures', () => {
  assert.deepEqual(parseTestResults('5 passed, 2 failed in 3.2s'), {
    total: 7,
    passed: 5,
    failed: 2,
    skipped: null,
    durationMs: 3200,
  });
  assert.deepEqual(parseTestResults('==== 3 passed, 1 error, 2 xfailed in 0.50s ===='), {
    total: 4,
    passed: 3,
    failed: 1,
    skipped: null,
    durationMs: 500,
  });
});

test('jest summary: explicit total and Time; Test Suites line ignored', () => {
  const text = [
    'PASS src/a.test.js',
    'FAIL src/b.test.js',
    'Test Suites: 1 failed, 1 passed, 2 total',
    'Tests:       2 failed, 8 passed, 10 total',
    'Snapshots:   0 total',
    'Time:        4.512 s',
  ].join('\n');
  assert.deepEqual(parseTestResults(text), {
    total: 10,
    passed: 8,
    failed: 2,
    skipped: null,
    durationMs: 4512,
  });
});

test('mocha passing/failing/pending', () => {
  const text = '  ✓ works\n  1) breaks\n\n  12 passing (2s)\n  1 failing\n  3 pending\n';
  assert.deepEqual(parseTestResults(text), {
    total: 16,
    passed: 12,
    failed: 1,
    skipped: 3,
    durationMs: 2000,
  });
});

test('go test -v', () => {
  const text = [
    '=== RUN   TestA',
    '--- PASS: TestA (0.00s)',
    '=== RUN   TestB',
    '--- FAIL: TestB (0.01s)',
    '--- SKIP: TestC (0.00s)',
    'FAIL',
    'FAIL\texample.com/pkg\t0.123s',
  ].join('\n');
  assert.deepEqual(parseTestResults(text), {
    total: 3,
    passed: 1,
    failed: 1,
    skipped: 1,
    durationMs: 123,
  });
});

test('the author summary list wins over markers and runner lines', () => {
  const text = [
    '## Summary',
    '- **Total Tests**: 10',
    '- **Passed**: 10',
    '- **Failed**: 0',
    '- Duration: 1m 30s',
    '',
    'test_a PASSED',
  ].join('\n');
  assert.deepEqual(parseTestResults(text), {
    total: 10,
    passed: 10,
    failed: 0,
    skipped: null,
    durationMs: 90_000,
  });
});

test('markers only: the word PASSED is one pass, not two', () => {
  const text = 'test_one PASSED\ntest_two PASSED\ntest_three FAILED\nStatus: ✓ ok\n';
  assert.deepEqual(parseTestResults(text), {
    total: 4,
    passed: 3,
    failed: 1,
    skipped: null,
    durationMs: null,
  });
});

test('two runners in one file add up; a re-run of one runner replaces', () => {
  const text = [
    'Backend:',
    '==== 1 passed, 1 failed in 1.0s ====',
    're-run:',
    '==== 4 passed in 2.0s ====',
    'Frontend:',
    'Tests: 3 passed, 3 total',
  ].join('\n');
  const r = parseTestResults(text);
  assert.deepEqual(r, { total: 7, passed: 7, failed: 0, skipped: null, durationMs: 2000 });
});

test('nothing recognisable is null; durations and file names', () => {
  assert.equal(parseTestResults('# Tests\nWe will run them later.'), null);
  assert.equal(parseTestResults(''), null);
  assert.equal(parseDuration('120ms'), 120);
  assert.equal(parseDuration('nothing'), null);
  assert.equal(testIterationOf('/p/.context-foundry/test-results-iteration-12.md'), 12);
  assert.equal(testIterationOf('.context-foundry/test-results-iteration-x.md'), null);
});

test('a FAILED verdict line wins over a passing runner summary, with its reason', () => {
  const text = [
    '# Test Results - Iteration 1',
    '',
    '**Date:** 2026-01-19',
    '**Status:** FAILED - the server does not compile (type errors)',
    '',
    '## Summary',
    '- ✅ **Unit tests:** PASSED (13/13 tests)',
    '- ❌ **Server:** FAILED TO START',
    '',
    '```',
    'Test Suites: 1 passed, 1 total',
    'Tests:       13 passed, 13 total',
    'Time:        0.66 s',
    '```',
  ].join('\n');
  const r = parseTestResults(text);
  assert.equal(r?.passed, 13);
  assert.equal(r?.verdict, 'failed');
  assert.equal(r?.reason, 'the server does not compile (type errors');
});

test('per-test "Result: PASS" lines under sub-sections are not the verdict', () => {
  const text = [
    '# Test Results',
    '### 1. Syntax',
    '**Result:** ✅ PASS - fine',
    '## Summary',
    '**Passed:** 13',
    '**Failed:** 0',
    '✅ **ALL TESTS PASSED**',
  ].join('\n');
  const r = parseTestResults(text);
  assert.equal(r?.verdict, 'passed');
  assert.equal(r?.reason, null);
  assert.equal(parseTestResults('Tests: 2 passed, 2 total')?.verdict, undefined);
});
