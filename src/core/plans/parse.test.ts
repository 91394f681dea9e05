import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  classifyFile,
  declaredAchievement,
  parseAchievementIndex,
  parseParallel,
} from './parse.ts';

test('the index keeps markdown and emoji in titles and accepts list variants', () => {
  const text = [
    '# PLAN: Demo',
    '## 📋 Achievement Index',
    '- Achievement 1.1: **Bold** setup 🚀',
    '* [x] **Achievement 1.2**: Use `code` and [links](http://x) ✅',
    '1. Achievement 1.10 — Dash title',
    '- [Achievement 2.1: Linked](#achievement-21)',
    '- Achievement 11.0: Eleven',
    'Prose that mentions Achievement 9.9 in passing is not an entry.',
    '## Next section',
    '- Achievement 5.5: Not in the index',
  ].join('\n');
  const { entries, warnings } = parseAchievementIndex(text);
  assert.deepEqual(
    entries.map((e) => [e.id, e.title]),
    [
      ['1.1', '**Bold** setup 🚀'],
      ['1.2', 'Use `code` and [links](http://x) ✅'],
      ['1.10', 'Dash title'],
      ['2.1', 'Linked'],
      ['11.0', 'Eleven'],
    ],
  );
  assert.deepEqual(warnings, []);
});

test('a nested index section ends at the next heading of its level or above', () => {
  const text =
    '### Achievement Index\n- Achievement 1.1: A\n#### Sub\n- Achievement 1.2: B\n## Other\n- Achievement 1.3: C';
  assert.deepEqual(
    parseAchievementIndex(text).entries.map((e) => e.id),
    ['1.1', '1.2'],
  );
});

test('without an index section, achievement headings are used, with a warning', () => {
  const text = '# PLAN\n### Achievement 1.1: First\n### 🎯 Achievement 1.2: Second\n';
  const { entries, warnings } = parseAchievementIndex(text);
  assert.deepEqual(entries, [
    { id: '1.1', title: 'First' },
    { id: '1.2', title: 'Second' },
  ]);
  assert.equal(warnings.length, 1);
  assert.match(parseAchievementIndex('nothing here').warnings[0] ?? '', /no achievement headings/);
});

test('duplicate index ids keep the first title and warn', () => {
  const { entries, warnings } = parseAchievementIndex(
    '## Achievement Index\n- Achievement 1.1: A\n- Achievement 1.1: B',
  );
  assert.deepEqual(entries, [{ id: '1.1', title: 'A' }]);
  assert.match(warnings[0] ?? '', /more than once/);
});

test('parallel.json: ids as strings or numbers, hours as text, bad input as warnings', () => {
  const ok = parseParallel(
    JSON.stringify({
      achievements: [
        {
          achievement_id: '1.1',
          title: 'A',
          priority: 'high',
          estimated_hours: '2.5',
          dependencies: [],
        },
        { achievement_id: 1.2, dependencies: ['1.1'], estimated_hours: 'soon' },
      ],
    }),
  );
  assert.deepEqual(ok.warnings, []);
  assert.deepEqual(ok.entries, [
    { id: '1.1', title: 'A', priority: 'high', estimatedHours: 2.5, dependencies: [] },
    { id: '1.2', title: null, priority: null, estimatedHours: null, dependencies: ['1.1'] },
  ]);
  assert.match(parseParallel('{').warnings[0] ?? '', /not valid JSON/);
  assert.match(parseParallel('{"achievements":{}}').warnings[0] ?? '', /does not match/);
  assert.deepEqual(parseParallel('null').entries, []);
});

test('file names: subplans, executions with attempts, verdicts with optional plan and suffix', () => {
  assert.deepEqual(classifyFile('subplans', 'SUBPLAN_MY_PLAN_12.md'), {
    kind: 'subplan',
    num: '12',
  });
  assert.deepEqual(classifyFile('subplans', 'SUBPLAN_DEMO_1.10.md'), {
    kind: 'subplan',
    num: '1.10',
  });
  assert.deepEqual(classifyFile('execution', 'EXECUTION_TASK_DEMO_110_02.md'), {
    kind: 'execution',
    num: '110',
  });
  assert.deepEqual(classifyFile('feedbacks', 'APPROVED_12.md'), { kind: 'approval', num: '12' });
  assert.deepEqual(classifyFile('feedbacks', 'FIX_12_02.md'), { kind: 'fix', num: '12' });
  assert.deepEqual(classifyFile('feedbacks', 'APPROVED_DEMO_21.md'), {
    kind: 'approval',
    num: '21',
  });
  assert.equal(classifyFile('execution', 'EXECUTION_ANALYSIS_DEMO.md'), null);
  assert.equal(classifyFile('feedbacks', 'NOTES.md'), null);
  assert.equal(classifyFile('subplans', 'SUBPLAN_DEMO_12.txt'), null);
});

test('declared achievements are read from the file header', () => {
  assert.equal(declaredAchievement('**Achievement**: 2.3 (Real-Time)'), '2.3');
  assert.equal(declaredAchievement('**Achievement Addressed**: Achievement 11.0 (X)'), '11.0');
  assert.equal(declaredAchievement('no declaration'), null);
});
