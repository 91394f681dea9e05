import type { Command } from 'commander';
import {
  type Channel,
  DesktopChannel,
  parseWebhookUrl,
  WebhookChannel,
} from '../notify/channels.ts';
import { type ChannelTestResult, testChannels } from '../notify/notifier.ts';
import { CliError, EXIT } from './errors.ts';
import { collect, serverUrl } from './options.ts';

interface NotifyTestFlags {
  url?: string;
  token?: string;
  webhook?: string[];
  desktop?: boolean;
}

/** The server's channels, through `POST /api/notify/test`. */
async function testServer(url: string, token: string | undefined): Promise<ChannelTestResult[]> {
  let response: Response;
  try {
    response = await fetch(`${url}/api/notify/test`, {
      method: 'POST',
      headers: token ? { authorization: `Bearer ${token}` } : {},
      signal: AbortSignal.timeout(30_000),
    });
  } catch {
    throw new CliError(
      `no server answered at ${url}: start one with 'livestream serve --webhook URL', or pass --webhook here`,
      EXIT.unavailable,
    );
  }
  if (response.status === 401) {
    throw new CliError(`the server at ${url} needs a token: pass --token`, EXIT.usage);
  }
  if (!response.ok)
    throw new CliError(`the server at ${url} answered ${response.status}`, EXIT.failure);
  return ((await response.json()) as { channels: ChannelTestResult[] }).channels;
}

/** Channels given on this command line, tested from here. */
async function testLocal(flags: NotifyTestFlags): Promise<ChannelTestResult[]> {
  const channels: Channel[] = [];
  for (const [i, text] of (flags.webhook ?? []).entries()) {
    try {
      channels.push(new WebhookChannel(parseWebhookUrl(text)));
    } catch (error) {
      throw new CliError(`invalid --webhook #${i + 1}: ${(error as Error).message}`, EXIT.usage);
    }
  }
  if (flags.desktop) {
    const desktop = DesktopChannel.detect();
    if (!desktop) return [{ channel: 'desktop', ok: false, error: 'notify-send is not installed' }];
    channels.push(desktop);
  }
  return testChannels(channels, null, Date.now());
}

/** `livestream notify test`: a sample alert to every channel. */
export function register(program: Command): void {
  const notify = program.command('notify').description('Notification channels for alerts');
  notify
    .command('test')
    .description(
      "Send a sample alert to each of a running server's channels (or to the channels given here)",
    )
    .option('--url <url>', 'server URL (default http://127.0.0.1:$LIVESTREAM_PORT or 8080)')
    .option('--token <secret>', 'token of a server started with --token (env LIVESTREAM_TOKEN)')
    .option(
      '--webhook <url>',
      'test this webhook from here instead of the server; repeatable',
      collect,
    )
    .option('--desktop', 'test desktop notifications (notify-send) from here')
    .action(async (flags: NotifyTestFlags) => {
      const local = (flags.webhook?.length ?? 0) > 0 || flags.desktop === true;
      const results = local
        ? await testLocal(flags)
        : await testServer(serverUrl(flags.url), flags.token ?? process.env.LIVESTREAM_TOKEN);
      if (results.length === 0) {
        process.stdout.write(
          'No notification channels configured: start the server with --webhook URL or --desktop-notify.\n',
        );
        return;
      }
      for (const r of results) {
        process.stdout.write(
          `${r.ok ? 'sent  ' : 'FAILED'}  ${r.channel}${r.error ? `: ${r.error}` : ''}\n`,
        );
      }
      if (results.some((r) => !r.ok)) {
        throw new CliError('some channels did not take the sample', EXIT.unavailable);
      }
    });
}
