import { once } from 'node:events';
import WebSocket from 'ws';

/** Outcome of a WebSocket handshake: open (with the first message) or refused with a status. */
export type Handshake =
  | { open: true; ws: WebSocket; first: Record<string, unknown> }
  | { open: false; status: number | null; error: string };

/** Opens `url` with `headers`; waits for the first message or the refusal. */
export async function handshake(
  url: string,
  headers: Record<string, string> = {},
): Promise<Handshake> {
  const ws = new WebSocket(url, { headers });
  return new Promise<Handshake>((resolve) => {
    ws.once('message', (data) =>
      resolve({ open: true, ws, first: JSON.parse(String(data)) as Record<string, unknown> }),
    );
    ws.once('unexpected-response', (_req, res) => {
      resolve({ open: false, status: res.statusCode ?? null, error: 'unexpected-response' });
      ws.terminate();
    });
    ws.once('error', (error) => resolve({ open: false, status: null, error: error.message }));
  });
}

/** Closes a socket and waits for it to be closed. */
export async function closeSocket(ws: WebSocket): Promise<void> {
  if (ws.readyState === WebSocket.CLOSED) return;
  const closed = once(ws, 'close');
  ws.close();
  await closed;
}

/** The next message of `ws` that satisfies `match`. */
export function nextMessage(
  ws: WebSocket,
  match: (m: Record<string, unknown>) => boolean = () => true,
): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const onMessage = (data: WebSocket.RawData) => {
      const message = JSON.parse(String(data)) as Record<string, unknown>;
      if (!match(message)) return;
      cleanup();
      resolve(message);
    };
    const onClose = (code: number) => {
      cleanup();
      reject(new Error(`socket closed (${code}) before the expected message`));
    };
    const cleanup = () => {
      ws.off('message', onMessage);
      ws.off('close', onClose);
    };
    ws.on('message', onMessage);
    ws.once('close', onClose);
  });
}
