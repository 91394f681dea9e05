import { type Alert, alertLabel } from '../shared/attention.ts';

/** The JSON a webhook receives for one alert (`type` and `version` let receivers evolve). */
export interface AlertEventBody {
  type: 'livestream.alert';
  version: 1;
  /** True for `livestream notify test`: a sample, not a real alert. */
  test: boolean;
  alert: Alert;
  /** The session page, when the server knows its address. */
  url: string | null;
}

export function alertEvent(
  alert: Alert,
  dashboardUrl: string | null,
  test = false,
): AlertEventBody {
  const url = dashboardUrl
    ? `${dashboardUrl}/#/session/${encodeURIComponent(alert.sessionId)}`
    : null;
  return { type: 'livestream.alert', version: 1, test, alert, url };
}

/** A sample alert for `livestream notify test`. */
export function sampleAlert(now: number): Alert {
  return {
    id: `livestream-test|test_loop|${now}`,
    sessionId: 'livestream-test',
    kind: 'test_loop',
    severity: 'warning',
    reason:
      'Test notification from Livestream: tests failing 4 iterations in a row (3 of 24 failing now), 61,200 tokens ($3.10) spent since Builder',
    since: now - 4 * 60_000,
    raisedAt: now,
    resolvedAt: null,
    acknowledgedAt: null,
    snoozedUntil: null,
  };
}

const ICON = { critical: '🔴', warning: '🟠', info: '🟢' } as const;

/** One line for people: "🔴 weather-app — Failed: Failed in Test (failed)". */
export function alertTitle(alert: Alert): string {
  return `${ICON[alert.severity]} ${alert.sessionId} — ${alertLabel(alert.kind)}`;
}

/** Slack's mrkdwn needs &, < and > escaped. */
function slackEscape(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/** The body of a Slack incoming webhook (`text` is what notifications show). */
export function slackBody(event: AlertEventBody): { text: string } {
  const a = event.alert;
  const head = `${ICON[a.severity]} *${slackEscape(a.sessionId)}* — ${alertLabel(a.kind)}${event.test ? ' (test)' : ''}`;
  const link = event.url ? `\n<${event.url}|Open in Livestream>` : '';
  return { text: `${head}\n${slackEscape(a.reason)}${link}` };
}
