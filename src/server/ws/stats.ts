import { EventEmitter } from 'node:events';

/**
 * Counters of the WebSocket endpoints, read by /metrics. It also emits
 * `slow` (a client crossed the soft limit and is being coalesced), `drained`
 * (it caught up and got fresh snapshots) and `slowClose` (it was closed with
 * 4008), which tests and logs can wait on.
 */
export class WsStats extends EventEmitter {
  /** Connected clients of `WS /ws`. */
  clients = 0;
  /** Connected clients of the legacy `WS /ws/:id`. */
  legacyClients = 0;
  /** Payload bytes handed to sockets (both endpoints). */
  bytesSent = 0;
  messagesSent = 0;
  /** Messages sent with permessage-deflate (`bytesSent` counts them uncompressed). */
  compressedMessages = 0;
  /** Times a client crossed the soft buffer limit and had its deltas coalesced. */
  coalesced = 0;
  /** Clients closed with 4008 because they did not read. */
  slowConsumerCloses = 0;
  /** Highest send-buffer occupancy seen on any socket, in bytes. */
  maxBufferedBytes = 0;

  /** Plain numbers for JSON and metrics. */
  toJSON(): Record<string, number> {
    return {
      clients: this.clients,
      legacyClients: this.legacyClients,
      bytesSent: this.bytesSent,
      messagesSent: this.messagesSent,
      compressedMessages: this.compressedMessages,
      coalesced: this.coalesced,
      slowConsumerCloses: this.slowConsumerCloses,
      maxBufferedBytes: this.maxBufferedBytes,
    };
  }
}

/** The process-wide stats, used unless a plugin is given its own. */
export const wsStats = new WsStats();
