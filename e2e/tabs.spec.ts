import { expect, openLive, test } from './fixtures.ts';
import { phaseDoc } from './server.ts';

test('two tabs agree on every change', async ({ context, server }) => {
  await server.writePhase(
    'shared',
    phaseDoc('shared', { current_phase: 'Scout', phase_number: '2/7' }),
  );
  const a = await context.newPage();
  const b = await context.newPage();
  await openLive(a, server.url);
  await openLive(b, server.url, '#/session/shared');

  const phases = ['Architect', 'Builder', 'Test', 'Deploy'];
  for (const [i, phase] of phases.entries()) {
    await server.writePhase(
      'shared',
      phaseDoc('shared', { current_phase: phase, phase_number: `${i + 3}/7` }),
    );
    await expect(a.locator('li[data-session="shared"] .phase-name')).toHaveText(phase);
    await expect(b.locator('.phase-current')).toHaveText(phase);
  }
  await server.writePhase(
    'shared',
    phaseDoc('shared', { current_phase: 'Complete', status: 'completed' }),
  );
  await expect(a.locator('li[data-session="shared"]')).toHaveClass(/state-completed/);
  await expect(b.locator('.session-page')).toHaveAttribute('data-state', 'completed');
  await expect(a).toHaveTitle(/shared completed/);
  await expect(b).toHaveTitle(/shared — completed/);
});
