import { useCallback, useEffect, useSyncExternalStore } from 'react';
import type { TopicData, TopicKind } from '../shared/topics.ts';
import type { ClientState, LivestreamClient, TopicName } from './client.ts';
import type { TopicEntry } from './topic-store.ts';

/**
 * Subscribes to a topic while the component is mounted and returns its held
 * state (undefined until the first snapshot). Re-renders only when that topic
 * changes.
 */
export function useTopic<K extends TopicKind>(
  client: LivestreamClient,
  name: TopicName<K>,
): TopicEntry<TopicData[K]> | undefined {
  useEffect(() => client.subscribe(name), [client, name]);
  const read = useCallback(() => client.topic<K>(name), [client, name]);
  return useSyncExternalStore(client.subscribeStore, read, read);
}

/** The connection state (status, next attempt, attempts, epoch). */
export function useConnection(client: LivestreamClient): ClientState {
  const read = useCallback(() => client.getState(), [client]);
  return useSyncExternalStore(client.subscribeStore, read, read);
}
