import type { DeltaMessage } from '../shared/protocol.ts';
import type { TopicState } from './types.ts';

/** Why a bus stopped being usable: its owner builds a fresh replica from Redis. */
export type LostReason = 'lease' | 'epoch' | 'gap' | 'error';

/** The Lua scripts as ioredis commands (see redis-scripts.ts). */
export interface Scripts {
  lsAcquire(lease: string, seq: string, id: string, ttl: number): Promise<number>;
  lsPublish(...args: (string | number | Buffer)[]): Promise<number>;
  lsRelease(lease: string, id: string): Promise<number>;
  lsState(lease: string, state: string, id: string, topic: string, json: string): Promise<number>;
}

export type StreamEntry = [Buffer, Buffer[]];

/** The bus's keys under its prefix (see redis-scripts.ts). */
export function keysOf(prefix: string) {
  return {
    lease: `${prefix}lease`,
    epoch: `${prefix}epoch`,
    replicaKey: `${prefix}replica-key`,
    seq: `${prefix}seq`,
    log: `${prefix}log`,
    state: `${prefix}state`,
    replicas: `${prefix}replicas`,
    replica: (id: string) => `${prefix}replica:${id}`,
  };
}

export function field(fields: Buffer[], name: string): Buffer | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i]?.toString() === name) return fields[i + 1];
  }
  return undefined;
}

export function wholeState(topic: string, state: TopicState): DeltaMessage {
  return {
    type: 'delta',
    topic,
    version: state.version,
    seq: state.seq,
    op: 'patch',
    patch: [{ op: 'replace', path: '', value: state.data }],
  };
}

export function reasonOf(error: unknown): LostReason {
  const message = error instanceof Error ? error.message : String(error);
  if (message.startsWith('LEASE')) return 'lease';
  if (message.startsWith('EPOCH')) return 'epoch';
  return 'error';
}

export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  return Promise.race([
    promise,
    new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), ms).unref()),
  ]);
}
