import type { DeltaCodec } from '../hub/fanout.ts';
import type { DeltaMessage } from '../shared/protocol.ts';

const encodedCache = new WeakMap<object, string>();
const bufferCache = new WeakMap<object, Buffer>();

/**
 * A message serialised once, however many clients it goes to. Messages handed
 * to `encode` must not be mutated afterwards. A snapshot's data is serialised
 * once per state (hubs own their states, unchanged until replaced): every
 * subscriber of a topic gets the same state, so only the small envelope is
 * made per snapshot, same text as JSON.stringify(message).
 */
export function encode(message: object): string {
  let text = encodedCache.get(message);
  if (text === undefined) {
    text = isSnapshot(message) ? encodeSnapshot(message) : JSON.stringify(message);
    encodedCache.set(message, text);
  }
  return text;
}

/**
 * `encode` as UTF-8 bytes, cached the same way: handing the same Buffer to
 * every socket spares the per-client string conversion.
 */
export function encodeBuffer(message: object): Buffer {
  let bytes = bufferCache.get(message);
  if (bytes === undefined) {
    const text = encode(message);
    // Not `Buffer.from`: a small Buffer is a slice of a shared 64 KiB pool, and
    // one kept (the replay log keeps thousands) pins the whole pool.
    bytes = Buffer.allocUnsafeSlow(Buffer.byteLength(text));
    bytes.write(text);
    bufferCache.set(message, bytes);
  }
  return bytes;
}

/**
 * The wire encoding as a bus codec: the bus keeps the very bytes the sockets
 * are sent, and a replayed delta is sent as stored, not encoded again.
 */
export const wireCodec: DeltaCodec = {
  encode: (delta) => encodeBuffer(delta),
  decode: (bytes) => {
    const buffer = Buffer.isBuffer(bytes)
      ? bytes
      : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const delta = JSON.parse(buffer.toString('utf8')) as DeltaMessage;
    bufferCache.set(delta, buffer);
    return delta;
  },
};

interface SnapshotLike {
  type: 'snapshot';
  topic: string;
  version: number;
  seq: number;
  data: unknown;
}

function isSnapshot(message: object): message is SnapshotLike {
  return (message as { type?: unknown }).type === 'snapshot';
}

function encodeSnapshot(message: SnapshotLike): string {
  const data = message.data;
  const dataText = typeof data === 'object' && data !== null ? encode(data) : JSON.stringify(data);
  return `{"type":"snapshot","topic":${JSON.stringify(message.topic)},"version":${message.version},"seq":${message.seq},"data":${dataText}}`;
}
