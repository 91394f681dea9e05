/// <reference lib="dom" />
import { TEMPLATES } from '../src/shared/phases.ts';
import { currentTemplate, secondRun } from '../test/replay/corpus.ts';
import { expect, guardPage, openLive, test } from './fixtures.ts';

test('a real-template build replayed on disk reads right on the page, across a server restart', async ({
  page,
  server,
}) => {
  const problems: string[] = [];
  guardPage(page, problems);
  await openLive(page, server.url);
  const project = 'tide-tracker';
  for (const step of currentTemplate(project)) {
    if (step.restart) {
      await server.restart();
      continue;
    }
    if (step.doc) await server.writePhase(project, step.doc);
    const e = step.expect;
    if (!e) continue;
    const row = page.locator(`li[data-session="${e.key}"]`);
    await expect(row.locator('.phase-name')).toHaveText(e.phase);
    await expect(row).toHaveClass(new RegExp(`state-${e.state}`));
    await expect(row.getByRole('progressbar')).toHaveAttribute(
      'aria-valuetext',
      `${Math.round(e.progress ?? 0)} %`,
    );
  }

  await page.locator(`li[data-session="${project}"] a.session-name`).click();
  const steps = page.locator('.stepper .step .step-name');
  // The current template's phases, GitHub Integration once.
  await expect(steps).toHaveText([...TEMPLATES['cf-github'].phases]);
  await expect(page.locator('.stepper [data-state="skipped"]')).toHaveCount(0);
  await expect(page.locator('.step-loop')).not.toHaveCount(0);
  await expect(page.locator('.tl-loop').first()).toContainText('loop 1');
  // The LLM's January start is not the clock: elapsed is seconds, not thousands of hours.
  await expect(page.locator('.progress-eta')).not.toContainText(/\d{3,} h/);
  await expect(page.locator('.progress-eta')).toContainText('100 %');
  await expect(page.locator('.page-head .updated')).toHaveAttribute('data-freshness', 'final');

  // A new build in the folder is run 2; run 1 stays as it ended.
  for (const step of secondRun(project)) if (step.doc) await server.writePhase(project, step.doc);
  await page.goto(`${server.url}/#/`);
  await expect(page.locator(`li[data-session="${project}-run2"] .phase-name`)).toHaveText(
    'Builder',
  );
  await expect(page.locator(`li[data-session="${project}"]`)).toHaveClass(/state-completed/);
  expect(problems).toEqual([]);
});
