/**
 * The soak, shortened to two minutes for CI (`npm run soak -- --minutes 60`
 * is the full run). Same load, same checks, thresholds scaled to the run;
 * it fails on memory growth, a rising fd floor, or any client whose topics
 * differ from a fresh snapshot.
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
