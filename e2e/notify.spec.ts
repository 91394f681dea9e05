/// <reference lib="dom" />
import { expect, openLive, test } from './fixtures.ts';
import { phaseDoc } from './server.ts';

test('browser notifications are opt-in by a button, then announce a finished session once', async ({
  context,
  page,
  server,
}) => {
  await context.grantPermissions(['notifications']);
  // Record notifications the page creates (the real constructor still runs).
  await page.addInitScript(() => {
    const Real = window.Notification;
    const shown: string[] = [];
    (window as unknown as { shown: string[] }).shown = shown;
    class Recording extends Real {
      constructor(title: string, options?: NotificationOptions) {
        super(title, options);
        shown.push(`${title}|${options?.tag ?? ''}`);
      }
    }
    window.Notification = Recording as typeof Notification;
  });
  await server.writePhase('notify-me', phaseDoc('notify-me'));
  await openLive(page, server.url, '#/session/notify-me');
  const button = page.getByRole('button', { name: /Notify me|Notifications/ });
  await expect(button).toHaveAttribute('aria-pressed', 'false');

  await button.click();
  await expect(button).toHaveAttribute('aria-pressed', 'true');
  await expect(button).toHaveText('Notifications: on');

  await server.writePhase(
    'notify-me',
    phaseDoc('notify-me', { current_phase: 'Complete', status: 'completed' }),
  );
  await expect(page).toHaveTitle(/completed/);
  await expect
    .poll(() => page.evaluate(() => (window as unknown as { shown: string[] }).shown))
    .toEqual(['Livestream: notify-me completed|livestream:notify-me:completed']);

  // Off again: the setting is remembered off.
  await button.click();
  await expect(button).toHaveAttribute('aria-pressed', 'false');
});
