import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  classifyFile,
  declaredAchievement,
  declaredDate,
  declaredEffortHours,
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

test('without an index section, achievement headings are used (a form most real plans use: no warning)', () => {
  const text = '# PLAN\n### Achievement 1.1: First\n### 🎯 Achievement 1.2: Second\n';
  const { entries, warnings } = parseAchievementIndex(text);
  assert.deepEqual(entries, [
    { id: '1.1', title: 'First' },
    { id: '1.2', title: 'Second' },
  ]);
  assert.deepEqual(warnings, []);
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
  const c = (dir: 'subplans' | 'execution' | 'feedbacks', name: string) => {
    const r = classifyFile(dir, name);
    return r && [r.kind, r.num, r.attempt];
  };
  assert.deepEqual(c('subplans', 'SUBPLAN_MY_PLAN_12.md'), ['subplan', '12', 1]);
  assert.deepEqual(c('subplans', 'SUBPLAN_DEMO_1.10.md'), ['subplan', '1.10', 1]);
  assert.deepEqual(c('execution', 'EXECUTION_TASK_DEMO_110_02.md'), ['execution', '110', 1]);
  assert.deepEqual(c('feedbacks', 'APPROVED_12.md'), ['approval', '12', 1]);
  assert.deepEqual(c('feedbacks', 'FIX_12_02.md'), ['fix', '12', 2]);
  assert.deepEqual(c('feedbacks', 'APPROVED_DEMO_21.md'), ['approval', '21', 1]);
  assert.equal(c('execution', 'EXECUTION_ANALYSIS_DEMO.md'), null);
  assert.equal(c('feedbacks', 'NOTES.md'), null);
  assert.equal(c('subplans', 'SUBPLAN_DEMO_12.txt'), null);
});

test('file names in the wild: V2, RECOVERY, RESOLUTION, _v2 and mixed case', () => {
  const c = (dir: 'subplans' | 'execution' | 'feedbacks', name: string) => {
    const r = classifyFile(dir, name);
    return r && [r.kind, r.num, r.attempt];
  };
  assert.deepEqual(c('execution', 'EXECUTION_TASK_OBS-X_02_04_V2.md'), ['execution', '02', 2]);
  assert.deepEqual(c('execution', 'EXECUTION_TASK_OBS-X_01_05_RECOVERY.md'), [
    'execution',
    '01',
    1,
  ]);
  assert.deepEqual(c('feedbacks', 'FIX_21_RESOLUTION.md'), ['resolution', '21', 1]);
  assert.deepEqual(c('feedbacks', 'APPROVED_23_v2.md'), ['approval', '23', 2]);
  assert.deepEqual(c('feedbacks', 'Approved_12.md'), ['approval', '12', 1]);
  assert.equal(c('execution', 'ACHIEVEMENT-2.1-FINAL-SUMMARY.md'), null);
});

test('declared review dates: Review Date, Resolution Date, none', () => {
  assert.equal(declaredDate('**Review Date**: 2025-11-13  \n'), Date.UTC(2025, 10, 13));
  assert.equal(declaredDate('**Resolution Date**: 2025-11-12'), Date.UTC(2025, 10, 12));
  assert.equal(declaredDate('**Date**: 2025-11-12 14:30'), Date.UTC(2025, 10, 12, 14, 30));
  assert.equal(declaredDate('no date here'), null);
});

test('index forms in the wild: done marks and bold lines under other headings', () => {
  const done = parseAchievementIndex(
    '# P\n## 📋 Achievement Index\n- ✅ Achievement 0.1: `@folder` Shortcut\n- Achievement 0.2: Next\n',
  );
  assert.deepEqual(done.entries, [
    { id: '0.1', title: '`@folder` Shortcut' },
    { id: '0.2', title: 'Next' },
  ]);
  const bold = parseAchievementIndex(
    '# P\n## 🎯 Desirable Achievements\n### Priority 0\n**Achievement 0.1**: Logging Created (4-6h)\n\n**Achievement 1.1: Stage Validated**\n### Achievement 1.1: Stage Validated\n',
  );
  assert.deepEqual(bold.entries, [
    { id: '0.1', title: 'Logging Created (4-6h)' },
    { id: '1.1', title: 'Stage Validated' },
  ]);
  assert.deepEqual(bold.warnings, []);
});

test('declared achievements are read from the file header', () => {
  assert.equal(declaredAchievement('**Achievement**: 2.3 (Real-Time)'), '2.3');
  assert.equal(declaredAchievement('**Achievement Addressed**: Achievement 11.0 (X)'), '11.0');
  assert.equal(declaredAchievement('no declaration'), null);
});

test('declared effort: the SUBPLAN header forms in the wild, ranges as their middle', () => {
  const header = (v: string) => `# SUBPLAN: X\n\n**Plan**: P  \n**Estimated Effort**: ${v}  \n`;
  assert.equal(declaredEffortHours(header('2-3 hours')), 2.5);
  assert.equal(declaredEffortHours(header('2 hours')), 2);
  assert.equal(declaredEffortHours(header('1 hour')), 1);
  assert.equal(declaredEffortHours(header('1.5 hours')), 1.5);
  assert.equal(declaredEffortHours(header('30 minutes')), 0.5);
  assert.equal(declaredEffortHours(header('3-4 hours (pipeline execution + monitoring)')), 3.5);
  assert.equal(declaredEffortHours(header('8–11 hours')), 9.5);
  assert.equal(declaredEffortHours(header('2 days')), 16);
  assert.equal(declaredEffortHours(header('TBD')), null);
  assert.equal(declaredEffortHours(header('4-2 hours')), null, 'a backwards range is no estimate');
  assert.equal(declaredEffortHours('Estimated Effort: 3 hours (not the bold header)'), null);
});
