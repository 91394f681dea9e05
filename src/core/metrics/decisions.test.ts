import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import type { Decision } from '../../shared/metrics.ts';
import { decisionFileKind, parseDecisionFile, preferDecision } from './decisions.ts';

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
    ['issue:i1', 'issue', 'Port in use', 'Test', 'random port', { root_cause: 'x' }],
  );
  assert.match(second?.id ?? '', /^issue:h-[0-9a-f]{16}$/);
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
    [['common_issue:p1', 'common_issue', 'CORS v2']],
  );
  assert.equal(parseDecisionFile('patterns', [1], 'c.json', 1).problem, 'expected a JSON object');
});

test('nested issue and solution objects are shown; kinds keep their own ids', () => {
  const patterns = parseDecisionFile(
    'patterns',
    {
      patterns: [
        {
          pattern_id: 'iframe-blocked',
          severity: 'HIGH',
          issue: {
            description: 'Embedded third-party pages refuse to load in frames',
            detected_in_phase: 'Post-deployment user testing',
          },
          solution: {
            scout: { action: 'Warn about frame restrictions' },
            architect: { action: 'Plan a proxy route' },
          },
        },
      ],
    },
    '.context-foundry/patterns/common-issues.json',
    1,
  );
  const [p] = patterns.decisions;
  assert.equal(p?.title, 'Embedded third-party pages refuse to load in frames');
  assert.equal(p?.phase, 'Post-deployment user testing');
  assert.equal(p?.solution, 'scout: Warn about frame restrictions; architect: Plan a proxy route');
  const feedback = parseDecisionFile(
    'feedback',
    {
      issues_found: [
        {
          id: 'iframe-blocked',
          severity: 'HIGH',
          issue: 'Frames stay blank',
          solution_implemented: { 'server.js': 'Added a proxy', README: 'Documented it' },
        },
      ],
    },
    '.context-foundry/feedback/build-feedback-1.json',
    1,
  );
  const [f] = feedback.decisions;
  assert.equal(f?.solution, 'server.js: Added a proxy; README: Documented it');
  assert.notEqual(f?.id, p?.id);
});

test('one id in two files of a kind: the newer file wins whatever the reading order', () => {
  const older = {
    ...parseDecisionFile('feedback', { issues_found: [{ id: 'x', issue: 'old' }] }, 'a.json', 1)
      .decisions[0],
  } as Decision;
  const newer = {
    ...parseDecisionFile('feedback', { issues_found: [{ id: 'x', issue: 'new' }] }, 'b.json', 2)
      .decisions[0],
  } as Decision;
  assert.equal(preferDecision(older, newer).title, 'new');
  assert.equal(preferDecision(newer, older).title, 'new');
});

test('ids of entries without one are those stored before core dropped node:crypto', () => {
  // Computed by the node:crypto implementation (commit 0acd902); stored ids must not move.
  const feedback = {
    issues_found: [
      { issue: 'Vite port clash on 5173', detected_in_phase: 'Test' },
      { description: 'npm ci fails without lockfile' },
      { issue: { description: 'Déjà vu: ü€ 日本語 😀' }, phase: 'Builder' },
      'a bare string entry',
    ],
    successful_patterns: [
      { pattern: 'Run tests before deploy', applies_to_phases: ['Test', 'Deploy'] },
    ],
  };
  const patterns = { patterns: [{ title: 'Missing env var' }, { name: 'Lone \ud800 surrogate' }] };
  const ids = [
    ...parseDecisionFile('feedback', feedback, 'f', 0).decisions,
    ...parseDecisionFile('patterns', patterns, 'p', 0).decisions,
  ].map((d) => d.id);
  assert.deepEqual(ids, [
    'issue:h-200181277d3e3e3b',
    'issue:h-29c4fb8dd7eabee7',
    'issue:h-e2cb76f68a46d898',
    'issue:h-994b6c918207c1f0',
    'pattern:h-0da426a239b14f06',
    'common_issue:h-165a017556492c30',
    'common_issue:h-770574020e6fc268',
  ]);
});

test('hashed ids match node:crypto for any title and phase', () => {
  fc.assert(
    fc.property(
      fc.string({ unit: 'binary', minLength: 1 }).filter((s) => s.trim() !== ''),
      fc.option(fc.string({ unit: 'binary', minLength: 1 }).filter((s) => s.trim() !== '')),
      (title, phase) => {
        const doc = { issues_found: [{ title, ...(phase === null ? {} : { phase }) }] };
        const [d] = parseDecisionFile('feedback', doc, 'f', 0).decisions;
        const shownTitle = title.trim().slice(0, 4000);
        const shownPhase = phase === null ? '' : phase.trim().slice(0, 4000);
        const digest = createHash('sha256')
          .update(`issue\0${shownTitle}\0${shownPhase}`)
          .digest('hex');
        assert.equal(d?.id, `issue:h-${digest.slice(0, 16)}`);
      },
    ),
    { numRuns: 300 },
  );
});
