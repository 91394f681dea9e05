/// <reference types="node" />
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AgentSummary } from '../../../src/shared/agents.ts';
import type { SessionStatus } from '../../../src/shared/model.ts';
import { machinesOf, mergeWork, projectsOf } from './merge.ts';

function build(id: string, projectDir: string, host?: string): SessionStatus {
  return {
    id,
    sessionId: id,
    projectDir,
    source: 'file',
    currentPhase: 'Builder',
    phaseNumber: { raw: '4/7', current: 4, total: 7 },
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
    ...(host === undefined ? {} : { host }),
  };
}

test('one project on two machines: one project, two machines; unknown machines are not offered', () => {
  const agent = {
    id: 'a1',
    kind: 'claude',
    project: 'weather-app',
    state: 'idle',
    lastAt: 0,
  } as AgentSummary;
  const work = mergeWork(
    [
      build('weather-app@ci-2', '/@ci-2/home/dev/weather-app', 'ci-2'),
      build('weather-app@ci-1', '/@ci-1/home/dev/weather-app', 'ci-1'),
      build('old', '/home/dev/old'),
    ],
    [agent],
  );
  assert.deepEqual(projectsOf(work), ['old', 'weather-app']);
  assert.deepEqual(machinesOf(work), ['ci-1', 'ci-2']);
  assert.deepEqual(
    work.map((w) => [w.id, w.machine]),
    [
      ['weather-app@ci-2', 'ci-2'],
      ['weather-app@ci-1', 'ci-1'],
      ['old', ''],
      ['a1', ''],
    ],
  );
});

test('agent sessions are filtered by their machine too', () => {
  const agent = {
    id: 'a2',
    kind: 'codex',
    project: 'shop',
    host: 'ci-3',
    state: 'working',
    lastAt: 5,
  } as AgentSummary;
  const work = mergeWork([build('shop', '/home/dev/shop', 'laptop')], [agent]);
  assert.deepEqual(machinesOf(work), ['ci-3', 'laptop']);
  assert.equal(work.find((w) => w.id === 'a2')?.machine, 'ci-3');
});
