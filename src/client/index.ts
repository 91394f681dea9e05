export { type BackoffOptions, backoffDelay, DEFAULT_BACKOFF } from './backoff.ts';
export {
  type ClientOptions,
  type ClientSnapshot,
  type ClientState,
  type ConnectionStatus,
  LivestreamClient,
  type TopicName,
  type WebSocketConstructor,
  type WebSocketLike,
} from './client.ts';
export type { ClientStats, TopicEntry } from './topic-store.ts';
