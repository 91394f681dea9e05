import { expect, openLive, test } from './fixtures.ts';
import { phaseDoc } from './server.ts';

test('missing metrics: the degraded panel says why, the rest of the page works', async ({
  page,
  server,
}) => {
  await server.writePhase(
    'no-metrics',
    phaseDoc('no-metrics', {
      current_phase: 'Test',
      phase_number: '5/7',
      status: 'testing',
      test_iteration: 1,
    }),
  );
  await server.writeFile(
    'no-metrics/.context-foundry/test-results-iteration-1.md',
    '# Test results\n\nTests: 12 passed, 3 failed, 15 total\n',
  );
  await openLive(page, server.url, '#/session/no-metrics');

  // No session.jsonl and no agent updates: those panels show the server's reason in words.
  const tokens = page.locator('[data-panel="tokens"]');
  await expect(tokens.locator('[data-testid="reason"]')).toContainText(/Not available: \S+/);
  await expect(tokens.locator('canvas')).toHaveCount(0);
  const agents = page.locator('[data-panel="agents"]');
  await expect(agents.locator('[data-testid="reason"]')).toContainText(/Not available: \S+/);

  // The rest works: phases, progress, and the panel that has data.
  await expect(page.locator('.phase-current')).toHaveText('Test');
  await expect(page.locator('.step[data-state="current"]')).toContainText('Test');
  await expect(page.locator('[data-panel="tests"] table')).toContainText('12');
  await expect(page.locator('[data-panel="tests"] .updated')).toHaveAttribute(
    'data-freshness',
    'fresh',
  );

  // And it still updates live.
  await server.writePhase(
    'no-metrics',
    phaseDoc('no-metrics', { current_phase: 'Documentation', phase_number: '6/7' }),
  );
  await expect(page.locator('.phase-current')).toHaveText('Documentation');
});
