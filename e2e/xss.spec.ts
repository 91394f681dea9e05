import { expect, guardPage, openLive, test } from './fixtures.ts';
import { phaseDoc } from './server.ts';

const EVIL = '<img src=x onerror=alert(1)>';

test('a session named like HTML shows as text and runs nothing', async ({ page, server }) => {
  const problems: string[] = [];
  guardPage(page, problems);
  await server.writePhase(
    'evil',
    phaseDoc(EVIL, {
      current_phase: '<script>alert(2)</script>',
      progress_detail: '<b onmouseover=alert(3)>x</b>',
    }),
  );
  await openLive(page, server.url);
  const link = page.locator('a.session-name', { hasText: EVIL });
  await expect(link).toHaveText(EVIL);
  await expect(page.locator('.session-list img')).toHaveCount(0);
  await expect(page.locator('.session-list script')).toHaveCount(0);
  await expect(page.locator('.session-list')).toContainText('<script>alert(2)</script>');

  await link.click();
  await expect(page.locator('h1.session-title')).toHaveText(EVIL);
  await expect(page.locator('main img')).toHaveCount(0);
  await expect(page.locator('.phase-current')).toHaveText('<script>alert(2)</script>');
  expect(problems).toEqual([]);
});
