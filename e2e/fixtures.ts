import { test as base, expect, type Page } from '@playwright/test';
import { ServerProcess } from './server.ts';

/** Every test gets its own server over its own temp root; it is stopped and removed afterwards. */
export const test = base.extend<{ server: ServerProcess }>({
  // biome-ignore lint/correctness/noEmptyPattern: Playwright requires a destructured first argument
  server: async ({}, use, testInfo) => {
    const server = await ServerProcess.start();
    await use(server);
    if (testInfo.status !== testInfo.expectedStatus) {
      await testInfo.attach('server-output', { body: server.output, contentType: 'text/plain' });
    }
    await server.dispose();
  },
});

export { expect };

/** Opens a dashboard route and waits until the protocol connection is live. */
export async function openLive(page: Page, url: string, hash = '#/'): Promise<void> {
  await page.goto(`${url}/${hash}`);
  await expect(page.locator('.conn')).toHaveAttribute('data-status', 'live');
}

/** Fails the test when the page runs into an uncaught error or opens a dialog (alert from an XSS). */
export function guardPage(page: Page, problems: string[]): void {
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('dialog', (d) => {
    problems.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
}
