import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decisionFileKind, parseDecisionFile } from './decisions.ts';

test('decision files are recognised by path', () => {
  assert.equal(
    decisionFileKind('p/.context-foundry/feedback/build-feedback-2025-01-13.json'),
    'feedback',
  );
  assert.equal(decisionFileKind('.context-foundry/patterns/common-issues.json'), 'patterns');
  assert.equal(decisionFileKind('.context-foundry/feedback/notes.json'), null);
});

test('feedback: ids kept, hashes stable for entries without one, odd entries skipped', () => {
  const doc = {
    issues_found: [
      {
        id: 'i1',
        issue: 'Port in use',
        detected_in_phase: 'Test',
        solution_implemented: 'random port',
        root_cause: 'x',
      },
      { issue: 'No README' },
      'Plain text issue',
      7,
      {},
    ],
    successful_patterns: { not: 'a list' },
  };
  const a = parseDecisionFile('feedback', doc, 'f.json', 1);
  const b = parseDecisionFile('feedback', doc, 'f.json', 2);
  assert.equal(a.decisions.length, 3);
  assert.equal(a.skipped, 3);
  assert.deepEqual(
    a.decisions.map((d) => d.id),
    b.decisions.map((d) => d.id),
  );
  const [first, second, third] = a.decisions;
  assert.deepEqual(
    [first?.id, first?.kind, first?.title, first?.phase, first?.solution, first?.details],
    ['i1', 'issue', 'Port in use', 'Test', 'random port', { root_cause: 'x' }],
  );
  assert.match(second?.id ?? '', /^h-[0-9a-f]{16}$/);
  assert.equal(third?.title, 'Plain text issue');
});

test('patterns file; non-object documents are a problem', () => {
  const p = parseDecisionFile(
    'patterns',
    {
      patterns: [
        { pattern_id: 'p1', issue: 'CORS', severity: 'high', solution: 'proxy' },
        { pattern_id: 'p1', issue: 'CORS v2' },
      ],
    },
    'c.json',
    1,
  );
  assert.deepEqual(
    p.decisions.map((d) => [d.id, d.kind, d.title]),
    [['p1', 'common_issue', 'CORS v2']],
  );
  assert.equal(parseDecisionFile('patterns', [1], 'c.json', 1).problem, 'expected a JSON object');
});
