import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LivestreamClient } from '../../src/client/client.ts';
import { createLogger } from '../../src/logger.ts';
import { type Replica, startReplica } from '../../src/replica.ts';
import { testConfig } from '../helpers/app-config.ts';
import { waitFor } from '../helpers/server.ts';

/** Test helpers for replicas in this process: each its own folder, all on one Redis and PostgreSQL. */
export class ReplicaSet {
  readonly replicas: Replica[] = [];
  readonly clients: LivestreamClient[] = [];
  readonly #dirs: string[] = [];

  constructor(
    readonly busUrl: string,
    readonly storeUrl: string,
  ) {}

  async start(): Promise<Replica> {
    const dir = await mkdtemp(join(tmpdir(), 'livestream-replica-'));
    this.#dirs.push(dir);
    const config = testConfig([dir], join(dir, 'alerts.db'), {
      storeUrl: this.storeUrl,
      webDir: join(dir, 'no-web'),
      agents: null,
    });
    const replica = await startReplica({
      config,
      logger: createLogger({ level: 'silent' }),
      busUrl: this.busUrl,
    });
    this.replicas.push(replica);
    return replica;
  }

  /** A protocol client that asks `url()` where to connect on every (re)connect. */
  client(url: () => string, topics: string[]): LivestreamClient {
    const client = new LivestreamClient({
      url: () => `${url().replace(/^http/, 'ws')}/ws`,
      backoff: { initialMs: 20, maxMs: 200 },
    });
    for (const t of topics) client.subscribe(t);
    client.connect();
    this.clients.push(client);
    return client;
  }

  async close(): Promise<void> {
    for (const client of this.clients) client.close();
    for (const replica of this.replicas) await replica.stop();
    for (const dir of this.#dirs) await rm(dir, { recursive: true, force: true });
  }
}

/** POSTs a phase document; resolves with the HTTP status. */
export async function push(url: string, body: Record<string, unknown>): Promise<number> {
  const response = await fetch(`${url}/api/phase-update`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  await response.arrayBuffer();
  return response.status;
}

/** Waits until the client holds `topic` and `check` accepts its data. */
export function held<T>(
  client: LivestreamClient,
  topic: string,
  check: (data: T) => boolean,
  timeoutMs = 10_000,
): Promise<T> {
  return waitFor(
    () => {
      const data = client.topic(topic as 'sessions')?.data as T | null | undefined;
      return data != null && check(data) ? data : undefined;
    },
    timeoutMs,
    `${topic} on the client`,
  );
}
