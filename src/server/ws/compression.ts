import type { WebSocket } from 'ws';

/**
 * permessage-deflate (RFC 7692) for the WebSocket endpoints. With context
 * takeover, each delta is compressed against the ones before it, so the
 * envelope and keys that every delta repeats cost a few bytes. A 2 KiB window
 * and memLevel 2 keep zlib's compressor at about 16 KiB a client (its
 * default, 32 KiB and 8, takes about 262 KiB); deltas are a few hundred
 * bytes, so a window of two or three of them loses little (bench/protocol.ts:
 * 1.96 KB a client for the demo build against 1.85 KB with the default). Clients compress their messages without
 * context takeover: their inflater is freed after each (small) message.
 */
export const perMessageDeflateOptions = {
  serverMaxWindowBits: 11,
  clientNoContextTakeover: true,
  zlibDeflateOptions: { memLevel: 2 },
  // Every send says whether to compress (see CompressionGate); ws applies
  // the threshold only without context takeover.
  threshold: 0,
} as const;

/** Messages shorter than this go uncompressed: the saving is not worth a zlib call. */
export const COMPRESS_MIN_BYTES = 64;

/**
 * Compressions in flight at once, across all clients. Each one is a round
 * trip to zlib's thread pool (ws runs 10 at a time) during which that client's
 * later messages wait; under heavy fan-out (1,000 clients, 50 updates a
 * second: 50,000 sends a second) a queue of them would add hundreds of
 * milliseconds. Beyond the cap, and to clients with unsent data (a queue is
 * already there), messages go uncompressed, which the extension allows
 * message by message. So a build's few updates to its dashboards are all
 * compressed, and fan-out latency never waits on zlib.
 */
export const DEFAULT_MAX_COMPRESSING = 16;

/** Above this many unsent bytes, a client's messages are not compressed. */
const MAX_BUFFERED_FOR_COMPRESSION = 16 * 1024;

/** Counts compressions in flight against a cap. */
export class CompressionGate {
  readonly max: number;
  #inFlight = 0;

  constructor(max: number = DEFAULT_MAX_COMPRESSING) {
    this.max = Math.max(0, max);
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /**
   * Sends `data` to `ws`, compressed when the client negotiated
   * permessage-deflate, the message is long enough, the client has no
   * backlog and a slot is free. Returns whether it compressed.
   */
  send(ws: WebSocket, data: Buffer | string, bytes: number): boolean {
    const compress =
      ws.extensions !== '' &&
      bytes >= COMPRESS_MIN_BYTES &&
      this.#inFlight < this.max &&
      ws.bufferedAmount <= MAX_BUFFERED_FOR_COMPRESSION;
    if (!compress) {
      ws.send(data, { binary: false, compress: false });
      return false;
    }
    this.#inFlight++;
    // Called once the frame is written, or with an error if the socket closed.
    ws.send(data, { binary: false, compress: true }, () => this.#inFlight--);
    return true;
  }
}

/** The gate both endpoints share unless given their own. */
export const compressionGate = new CompressionGate();
