/**
 * The soak, shortened to two minutes for CI (`npm run soak -- --minutes 60`
 * is the full run). Same load; it fails on a rising fd floor, any client whose
 * topics differ from a fresh snapshot, a server that did not survive its
 * restarts, or load that was not applied. Memory is reported here and judged
 * from 10 minutes on (LIVESTREAM_SOAK_MINUTES=10 or more), when filling bounded
 * structures no longer hides a leak.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatReport, runSoak } from '../../scripts/soak.ts';

const MINUTES = Number(process.env.LIVESTREAM_SOAK_MINUTES ?? 2);

describe('soak', () => {
  it(`holds for ${MINUTES} minutes of demo load, churn, plan edits and restarts`, {
    timeout: (MINUTES * 60 + 90) * 1000,
  }, async (t) => {
    const report = await runSoak({ minutes: MINUTES, sampleMs: 3000, log: () => undefined });
    t.diagnostic(formatReport(report));
    assert.deepEqual(report.failures, [], formatReport(report));
    assert.ok(
      report.restarts >= 1 && report.churnConnections > 50 && report.clientUpdatesApplied > 0,
    );
  });
});
