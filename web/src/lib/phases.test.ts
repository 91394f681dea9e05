/// <reference types="node" />
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SessionStatus, TimelineEntry } from '../../../src/shared/model.ts';
import { CANONICAL_PHASES, canonicalPhase, templatePhases } from '../../../src/shared/phases.ts';
import { buildSteps } from './phases.ts';

function status(over: Partial<SessionStatus>): SessionStatus {
  return {
    id: 's',
    sessionId: 's',
    projectDir: null,
    source: 'file',
    currentPhase: 'Builder',
    phaseNumber: { raw: '5/7', current: 5, total: 7 },
    status: 'in_progress',
    state: 'active',
    progressDetail: null,
    testIteration: null,
    phasesCompleted: [],
    startedAt: null,
    reportedAt: null,
    firstSeenAt: 0,
    changedAt: 0,
    progressPercent: null,
    etaAt: null,
    warnings: [],
    extras: {},
    ...over,
  };
}

const entry = (phase: string, phaseNumber: string | null, ended: boolean): TimelineEntry => ({
  phase,
  phaseNumber,
  startedAt: 0,
  endedAt: ended ? 1 : null,
  durationMs: ended ? 1 : null,
});

test('aliases and lowercase names map to canonical phases; unknown names are kept', () => {
  assert.equal(canonicalPhase('scout'), 'Scout');
  assert.equal(canonicalPhase('Tester'), 'Test');
  assert.equal(canonicalPhase('Test Loop'), 'Test');
  assert.equal(canonicalPhase('Deployer'), 'Deploy');
  assert.equal(canonicalPhase(' Security Review '), 'Security Review');
});

test('unknown phases are inserted where they occurred', () => {
  const order = templatePhases('cf-github', ['Scout', 'Architect', 'Security Review', 'Builder']);
  assert.equal(order.indexOf('Security Review'), order.indexOf('Architect') + 1);
  assert.equal(order.length, CANONICAL_PHASES.length);
  assert.equal(templatePhases('cf-github', ['Kickoff'])[0], 'Kickoff');
});

test("the strip shows the phases of the build's template version, GitHub once", () => {
  const names = (over: Partial<SessionStatus>) => buildSteps(status(over), []).map((s) => s.name);
  const current = names({
    template: 'cf-github',
    currentPhase: 'GitHub Integration',
    phasesCompleted: ['Scout', 'Architect', 'Builder', 'Test', 'Feedback', 'GitHub'],
  });
  assert.deepEqual(current, [
    'Scout',
    'Architect',
    'Builder',
    'Test',
    'Screenshot',
    'Documentation',
    'Deploy',
    'Feedback',
    'GitHub Integration',
  ]);
  assert.equal(current.includes('Parallel Build Planning'), false);
  assert.equal(current.includes('Integration Pre-Check'), false);
  const seven = names({
    template: 'cf-7',
    currentPhase: 'Feedback',
    phasesCompleted: ['Deployer'],
  });
  assert.deepEqual(seven, [
    'Scout',
    'Architect',
    'Builder',
    'Test',
    'Documentation',
    'Deploy',
    'Feedback',
  ]);
  assert.equal(
    names({ template: 'cf-github', currentPhase: 'Codebase Analysis' })[0],
    'Codebase Analysis',
  );
});

test('steps: completed, current with its fractional number, skipped and pending', () => {
  const steps = buildSteps(
    status({
      currentPhase: 'Test',
      phaseNumber: { raw: '4.5/8', current: 4.5, total: 8 },
      phasesCompleted: ['Scout', 'architect', 'Builder'],
    }),
    [
      entry('Scout', '2/8', true),
      entry('Architect', '3/8', true),
      entry('Builder', '4/8', true),
      entry('Test', '4.5/8', false),
    ],
  );
  const by = new Map(steps.map((s) => [s.name, s]));
  assert.equal(by.get('Scout')?.state, 'completed');
  assert.equal(by.get('Architect')?.state, 'completed');
  assert.equal(by.get('Test')?.state, 'current');
  assert.equal(by.get('Test')?.number, '4.5');
  assert.equal(by.get('Parallel Build Planning'), undefined);
  assert.equal(by.get('Deploy')?.state, 'pending');
  assert.equal(steps.filter((s) => s.state === 'current').length, 1);
});

test('a failed session marks its current phase failed; a completed one leaves nothing pending', () => {
  const failed = buildSteps(
    status({ state: 'failed', status: 'failed', currentPhase: 'Test' }),
    [],
  );
  assert.equal(failed.find((s) => s.name === 'Test')?.state, 'failed');
  const done = buildSteps(
    status({
      state: 'completed',
      status: 'completed',
      currentPhase: 'complete',
      phasesCompleted: ['Scout', 'Builder'],
    }),
    [],
  );
  assert.equal(
    done.some((s) => s.state === 'pending' || s.state === 'current'),
    false,
  );
  assert.equal(
    done.some((s) => s.name.toLowerCase() === 'complete'),
    false,
  );
});
