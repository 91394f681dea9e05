import { createContext, type ReactNode, useContext } from 'react';
import type {
  ClientState,
  LivestreamClient,
  TopicEntry,
  TopicName,
} from '../../../src/client/index.ts';
import { useConnection, useTopic } from '../../../src/client/react.ts';
import type { TopicData, TopicKind } from '../../../src/shared/topics.ts';
import { topic } from '../../../src/shared/topics.ts';

/**
 * The one way live data reaches the views: the protocol client (`src/client`),
 * provided once at the root. Views ask for topics by kind and id.
 */
const ClientContext = createContext<LivestreamClient | null>(null);

export function LiveProvider({
  client,
  children,
}: {
  client: LivestreamClient;
  children: ReactNode;
}) {
  return <ClientContext.Provider value={client}>{children}</ClientContext.Provider>;
}

function useClient(): LivestreamClient {
  const client = useContext(ClientContext);
  if (!client) throw new Error('useLive outside <LiveProvider>');
  return client;
}

/** `ws://<host>/ws` next to the page (wss on https), so a path prefix or proxy keeps working. */
export function wsUrl(location: Location = window.location): string {
  const url = new URL('ws', location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.hash = '';
  url.search = '';
  return url.href;
}

/** The held entry of a topic (data, version, receivedAt); undefined until its first snapshot. */
export function useLiveEntry<K extends TopicKind>(
  kind: K,
  id?: string,
): TopicEntry<TopicData[K]> | undefined {
  return useTopic<K>(useClient(), topic(kind, id) as TopicName<K>);
}

/** A topic's data: undefined while loading, null when the topic does not exist on the server. */
export function useLive<K extends TopicKind>(
  kind: K,
  id?: string,
): TopicData[K] | null | undefined {
  return useLiveEntry(kind, id)?.data;
}

export function useConn(): ClientState {
  return useConnection(useClient());
}
