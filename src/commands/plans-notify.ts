import { type Channel, DesktopChannel } from '../notify/channels.ts';
import { alertEvent } from '../notify/event.ts';
import { type Alert, isQueued } from '../shared/attention.ts';
import type { DashboardStore } from '../tui/state.ts';

/**
 * Desktop notifications from the dashboard's host (`plans --connect URL
 * --desktop-notify`): each alert that enters the attention queue while the
 * dashboard runs is shown once, through the same `notify-send` channel as
 * `serve --desktop-notify`. Alerts already open when the dashboard connects
 * are on screen, not announced. Returns the function that stops listening, or
 * null (with the reason) when notify-send is not installed.
 */
export function notifyNewAlerts(
  store: Pick<DashboardStore, 'getState' | 'subscribe'>,
  dashboardUrl: string,
  opts: {
    channel?: Channel | null;
    now?: () => number;
    onError?: (message: string) => void;
  } = {},
): (() => void) | null {
  const channel = opts.channel === undefined ? DesktopChannel.detect() : opts.channel;
  if (!channel) return null;
  const now = opts.now ?? Date.now;
  const seen = new Set<string>();
  let primed = false;
  let lastAlerts: Alert[] | undefined;
  const check = () => {
    const { builds } = store.getState();
    if (builds.alerts === undefined || builds.alerts === lastAlerts) return;
    lastAlerts = builds.alerts;
    const at = now();
    for (const alert of builds.alerts ?? []) {
      if (seen.has(alert.id) || !isQueued(alert, at)) continue;
      seen.add(alert.id);
      if (!primed) continue;
      channel
        .send(alertEvent(alert, dashboardUrl))
        .catch((error: unknown) =>
          opts.onError?.(`Desktop notification failed: ${(error as Error).message}`),
        );
    }
    primed = true;
  };
  const off = store.subscribe(check);
  check();
  return off;
}
