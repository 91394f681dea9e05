import { isDeepStrictEqual } from 'node:util';
import { LivestreamClient } from '../../src/client/client.ts';
import { waitFor } from '../helpers/server.ts';
import { push } from './replicas.ts';

/**
 * How long the long faults last. The default keeps `npm test` quick; set
 * LIVESTREAM_FAULTS=full for the durations the issue names (PostgreSQL away
 * 30 s, a forwarder cut off 60 s), as the soak tier does.
 */
export const FAULT_MS =
  process.env.LIVESTREAM_FAULTS === 'full'
    ? { postgres: 30_000, forwarder: 60_000 }
    : { postgres: 3_000, forwarder: 5_000 };

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Pushes `Phase 1`, `Phase 2`, … for one session as fast as answers come
 * (to wherever `target()` says), remembering which the server acknowledged
 * (HTTP 200): the ground truth a fault must not lose.
 */
export class Pusher {
  readonly acked: string[] = [];
  readonly failed: string[] = [];
  #n = 0;
  #running = false;
  #loop: Promise<void> = Promise.resolve();

  constructor(
    readonly sessionId: string,
    readonly target: () => string,
    /** Between answers; a push refused at once (503) comes back fast, under the rate limit. */
    readonly pauseMs = 10,
  ) {}

  start(): void {
    this.#running = true;
    this.#loop = (async () => {
      while (this.#running) {
        await this.once();
        await sleep(this.pauseMs);
      }
    })();
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#loop;
  }

  /** One push; true when acknowledged. */
  async once(phase = `Phase ${++this.#n}`): Promise<boolean> {
    try {
      const status = await push(this.target(), {
        session_id: this.sessionId,
        current_phase: phase,
        phase_number: '4/7',
        status: 'in_progress',
      });
      if (status === 200) {
        this.acked.push(phase);
        return true;
      }
    } catch {
      // Refused or cut: not acknowledged, so nothing is owed.
    }
    this.failed.push(phase);
    return false;
  }

  /** Pushes `phase` until it is acknowledged. */
  async finish(phase: string, timeoutMs = 20_000): Promise<void> {
    await waitFor(
      async () => ((await this.once(phase)) ? true : undefined),
      timeoutMs,
      `${phase} acknowledged`,
    );
  }
}

/** `topic` as a fresh client on `url` gets it (once `ready`): what a new dashboard would show. */
export async function truthOf<T>(
  url: string,
  topic: string,
  ready: (data: T) => boolean,
): Promise<T> {
  const client = new LivestreamClient({ url: `${url.replace(/^http/, 'ws')}/ws` });
  client.subscribe(topic);
  client.connect();
  try {
    return await waitFor(
      () => {
        const data = client.topic(topic as 'sessions')?.data as T | null | undefined;
        return data != null && ready(data) ? data : undefined;
      },
      15_000,
      `${topic} on a fresh client`,
    );
  } finally {
    client.close();
  }
}

/** Waits until the client holds exactly `truth` for `topic`. */
export async function converges(
  client: LivestreamClient,
  topic: string,
  truth: unknown,
): Promise<void> {
  await waitFor(
    () => (isDeepStrictEqual(client.topic(topic as 'sessions')?.data, truth) ? true : undefined),
    15_000,
    `${topic} on a client to equal the truth`,
  );
}
