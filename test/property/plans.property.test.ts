/**
 * Property tests of the plan parser (`src/core/plans`): any PLAN text, any
 * parallel.json and any file names derive a plan without throwing, in time
 * linear in the input (a plan file is written by an LLM and may be half
 * written or full of blanks: a regex that backtracks would freeze the server).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { derivePlan } from '../../src/core/plans/derive.ts';
import { compareIds } from '../../src/core/plans/ids.ts';
import {
  classifyFile,
  declaredAchievement,
  parseAchievementIndex,
  parseParallel,
} from '../../src/core/plans/parse.ts';
import type { PlanFile, PlanInput } from '../../src/core/plans/types.ts';

const RUNS = { numRuns: 300 };

const id = fc
  .array(fc.integer({ min: 0, max: 20 }), { minLength: 1, maxLength: 3 })
  .map((parts) => parts.join('.'));
const title = fc.oneof(fc.string(), fc.constantFrom('**Bold** 🚀', '[link](#x)', '`code`', ''));
const indexLine = fc.oneof(
  fc.tuple(id, title).map(([i, t]) => `- Achievement ${i}: ${t}`),
  fc.tuple(id, title).map(([i, t]) => `- [x] **Achievement ${i}**: ${t}`),
  fc.tuple(id, title).map(([i, t]) => `1. [Achievement ${i} — ${t}](#a)`),
  fc.tuple(id, title).map(([i, t]) => `### Achievement ${i}: ${t}`),
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: 'binary' }),
  fc.constantFrom('## 📋 Achievement Index', '# PLAN: Demo', '', '   ', '\t\t', '**', '- [ ]'),
);
const planText = fc.array(indexLine, { maxLength: 30 }).map((lines) => lines.join('\n'));

const fileName = fc.oneof(
  fc.tuple(id).map(([i]) => `SUBPLAN_DEMO_${i.replaceAll('.', '')}.md`),
  fc.tuple(id, fc.nat(99)).map(([i, n]) => `EXECUTION_TASK_DEMO_${i.replaceAll('.', '')}_${n}.md`),
  fc.tuple(fc.constantFrom('APPROVED', 'FIX'), id).map(([k, i]) => `${k}_${i}.md`),
  fc
    .tuple(fc.constantFrom('APPROVED', 'FIX'), id)
    .map(([k, i]) => `${k}_${i.replaceAll('.', '')}.md`),
  fc.string(),
  fc.string({ unit: 'binary' }),
);
const planFile: fc.Arbitrary<PlanFile> = fc.record({
  dir: fc.constantFrom('subplans', 'execution', 'feedbacks'),
  name: fileName,
  mtimeMs: fc.oneof(fc.integer({ min: 0, max: 2e12 }), fc.constant(0)),
  declared: fc.option(fc.oneof(id, fc.string()), { nil: undefined }),
});

const parallelText = fc.oneof(
  fc
    .array(
      fc.record({
        achievement_id: fc.oneof(id, fc.integer(), fc.string()),
        title: fc.option(fc.string()),
        priority: fc.option(fc.oneof(fc.string(), fc.integer())),
        estimated_hours: fc.option(fc.oneof(fc.double(), fc.string())),
        dependencies: fc.option(fc.array(fc.oneof(id, fc.integer()), { maxLength: 4 })),
      }),
      { maxLength: 12 },
    )
    .map((achievements) => JSON.stringify({ achievements })),
  fc.jsonValue().map((v) => JSON.stringify(v) ?? 'null'),
  fc.string(),
);

const planInput: fc.Arbitrary<PlanInput> = fc.record({
  id: fc.string({ minLength: 1 }),
  path: fc.constant('/tmp/plans/DEMO'),
  planFile: fc.option(fc.constant('PLAN_DEMO.md')),
  planText: fc.option(planText),
  planMtimeMs: fc.option(fc.integer({ min: 0, max: 2e12 })),
  parallelText: fc.option(parallelText),
  parallelMtimeMs: fc.option(fc.integer({ min: 0, max: 2e12 })),
  files: fc.array(planFile, { maxLength: 40 }),
});

/** Milliseconds `fn` takes; linear parsing of tens of KB takes well under one. */
function timed(fn: () => void): number {
  const start = performance.now();
  fn();
  return performance.now() - start;
}

describe('plan parser (property)', () => {
  it('derives any plan folder without throwing, with consistent counts', () => {
    fc.assert(
      fc.property(planInput, (input) => {
        const plan = derivePlan(input);
        JSON.stringify(plan);
        assert.ok(plan.progress.done <= plan.progress.total);
        assert.equal(plan.progress.total, plan.achievements.filter((a) => a.indexed).length);
        assert.equal(plan.needsAttention, plan.status === 'needs_attention');
        assert.equal(
          plan.needsAttention,
          plan.achievements.some((a) => a.fixOpen),
        );
        if (plan.status === 'complete') assert.equal(plan.next.length, 0);
        for (const next of plan.next) {
          const a = plan.achievements.find((x) => x.id === next);
          assert.ok(a && a.status !== 'approved', `next ${next} is unfinished`);
        }
        // The unfinished work never vanishes: something is next while any indexed one is open.
        const open = plan.achievements.some((a) => a.indexed && a.status !== 'approved');
        assert.equal(plan.next.length > 0, open);
        for (const w of plan.warnings) assert.ok(typeof w === 'string' && w.length > 0);
      }),
      RUNS,
    );
  });

  it('parses any index text, parallel.json and file name without throwing', () => {
    fc.assert(
      fc.property(planText, parallelText, fc.string(), (text, parallel, name) => {
        const index = parseAchievementIndex(text);
        const ids = new Set(index.entries.map((e) => e.id));
        assert.equal(ids.size, index.entries.length, 'no duplicate ids');
        parseParallel(parallel);
        for (const dir of ['subplans', 'execution', 'feedbacks'] as const) classifyFile(dir, name);
        declaredAchievement(text);
      }),
      RUNS,
    );
  });

  it('orders ids numerically and consistently', () => {
    fc.assert(
      fc.property(id, id, id, (a, b, c) => {
        assert.equal(Math.sign(compareIds(a, b)) + Math.sign(compareIds(b, a)), 0, 'antisymmetric');
        if (compareIds(a, b) <= 0 && compareIds(b, c) <= 0) assert.ok(compareIds(a, c) <= 0);
      }),
      RUNS,
    );
  });

  it('parses in linear time: long runs of blanks or markup cannot freeze the server', () => {
    const n = 2_500;
    const hostile = [
      `## Achievement Index\n${' '.repeat(n)}x\n`,
      `## Achievement Index\n- ${' '.repeat(n)}Achievement 1${' '.repeat(n)}\r${' '.repeat(n)}x\n`,
      `## Achievement Index\n${'- [ ] '.repeat(n / 6)}**${' '.repeat(n)}x\n`,
      `## Achievement Index\nAchievement 1.2${' \t'.repeat(n)}\u2028`,
      `#### ${' '.repeat(n)}x\n${'#'.repeat(n)}`,
      `${'*'.repeat(n)}Achievement${' '.repeat(n)}x`,
      `**Achievement**${' '.repeat(n)}:${' '.repeat(n)}x`,
    ];
    for (const text of hostile) {
      const ms = timed(() => {
        parseAchievementIndex(text);
        declaredAchievement(text);
        derivePlan({
          id: 'P',
          path: '/p',
          planFile: 'PLAN_P.md',
          planText: text,
          planMtimeMs: 1,
          parallelText: null,
          parallelMtimeMs: null,
          files: [],
        });
      });
      assert.ok(ms < 500, `parsing ${JSON.stringify(text.slice(0, 40))}… took ${ms.toFixed(0)} ms`);
    }
    const names = [`APPROVED_${'1_'.repeat(n)}.md`, `EXECUTION_TASK_${'_1'.repeat(n)}x.md`];
    for (const name of names) {
      const ms = timed(() => {
        for (const dir of ['subplans', 'execution', 'feedbacks'] as const) classifyFile(dir, name);
      });
      assert.ok(ms < 500, `classifying a ${name.length}-char name took ${ms.toFixed(0)} ms`);
    }
  });

  it('derives a long dependency chain without overflowing the stack', () => {
    const count = 20_000;
    const achievements = Array.from({ length: count }, (_, i) => ({
      achievement_id: `1.${i}`,
      dependencies: i === 0 ? [] : [`1.${i - 1}`],
    }));
    const plan = derivePlan({
      id: 'CHAIN',
      path: '/p',
      planFile: 'PLAN_CHAIN.md',
      planText: `## Achievement Index\n${achievements.map((a) => `- Achievement ${a.achievement_id}: t`).join('\n')}`,
      planMtimeMs: 1,
      parallelText: JSON.stringify({ achievements }),
      parallelMtimeMs: 1,
      files: [],
    });
    assert.equal(plan.parallelGroups.length, count);
    assert.deepEqual(plan.next, ['1.0']);
  });
});
