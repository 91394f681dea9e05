import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { type AlertEventBody, alertTitle, slackBody } from './event.ts';

/** Why a delivery failed, and whether trying again can help. */
export class DeliveryError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'DeliveryError';
  }
}

/** Somewhere notifications go. `key` and `label` never hold a secret. */
export interface Channel {
  /** Stable across restarts (the outbox is keyed by it). */
  readonly key: string;
  /** For logs and `notify test`: a webhook shows its host only. */
  readonly label: string;
  send(event: AlertEventBody): Promise<void>;
}

/** `hooks.slack.com/services/…`: Slack incoming webhooks want `{ text }`. */
export function isSlackWebhook(url: URL): boolean {
  return url.hostname === 'hooks.slack.com' && url.pathname.startsWith('/services/');
}

/** `https://hooks.slack.com/…`: the path and query hold the token, so they are never shown. */
export function redactUrl(url: URL): string {
  return `${url.protocol}//${url.host}/…`;
}

/** Parses a `--webhook` value: http(s) only. */
export function parseWebhookUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error('not a URL (expected http://… or https://…)');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`unsupported scheme ${url.protocol} (use http or https)`);
  }
  return url;
}

const TIMEOUT_MS = 10_000;

/** POSTs the JSON event (or Slack's body) to a URL. */
export class WebhookChannel implements Channel {
  readonly key: string;
  readonly label: string;
  readonly #url: URL;
  readonly #slack: boolean;

  constructor(url: URL) {
    this.#url = url;
    this.#slack = isSlackWebhook(url);
    this.key = `webhook:${createHash('sha256').update(url.href).digest('hex').slice(0, 16)}`;
    this.label = `webhook ${redactUrl(url)}${this.#slack ? ' (Slack)' : ''}`;
  }

  async send(event: AlertEventBody): Promise<void> {
    let response: Response;
    try {
      response = await fetch(this.#url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'livestream' },
        body: JSON.stringify(this.#slack ? slackBody(event) : event),
        signal: AbortSignal.timeout(TIMEOUT_MS),
        redirect: 'error',
      });
    } catch (error) {
      // Only the cause's code: undici's messages can carry the address.
      const e = error as Error & { cause?: { code?: string } };
      const code = e.name === 'TimeoutError' ? 'timeout' : (e.cause?.code ?? e.name);
      throw new DeliveryError(`request failed (${code})`, true);
    }
    await response.body?.cancel();
    if (response.ok) return;
    const retryable = response.status >= 500 || response.status === 408 || response.status === 429;
    throw new DeliveryError(`answered ${response.status}`, retryable);
  }
}

/** The path of an executable on PATH, or null. */
export function findExecutable(name: string, path = process.env.PATH ?? ''): string | null {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not in this folder.
    }
  }
  return null;
}

/** Desktop notifications through `notify-send` (libnotify); null when it is not installed. */
export class DesktopChannel implements Channel {
  readonly key = 'desktop';
  readonly label = 'desktop (notify-send)';
  readonly #bin: string;

  private constructor(bin: string) {
    this.#bin = bin;
  }

  static detect(path?: string): DesktopChannel | null {
    const bin = findExecutable('notify-send', path);
    return bin ? new DesktopChannel(bin) : null;
  }

  send(event: AlertEventBody): Promise<void> {
    const a = event.alert;
    const urgency =
      a.severity === 'critical' ? 'critical' : a.severity === 'warning' ? 'normal' : 'low';
    return new Promise((resolve, reject) => {
      // An argument list, never a shell: the reason is producer data.
      execFile(
        this.#bin,
        ['--app-name=Livestream', `--urgency=${urgency}`, '--', alertTitle(a), a.reason],
        { timeout: TIMEOUT_MS },
        (error) =>
          error
            ? reject(new DeliveryError(`notify-send failed (${error.code ?? 'error'})`, true))
            : resolve(),
      );
    });
  }
}
