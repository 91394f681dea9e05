import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request a receiver took. */
export interface Received {
  at: number;
  path: string;
  body: unknown;
}

/**
 * A real webhook receiver on loopback: records every JSON body and lets a
 * test wait for one that matches.
 */
export async function webhookReceiver() {
  const received: Received[] = [];
  const waiters = new Set<() => void>();
  const server = createServer((req, res) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      text += chunk;
    });
    req.on('end', () => {
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // Kept as text: the test will see what was sent.
      }
      received.push({ at: Date.now(), path: req.url ?? '', body });
      res.writeHead(204).end();
      for (const w of waiters) w();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    received,
    url: `http://127.0.0.1:${port}/hooks/T000/SECRET`,
    /** Resolves with the first request `match` accepts, already there or still to come. */
    waitFor(match: (r: Received) => boolean): Promise<Received> {
      return new Promise((resolve) => {
        const check = () => {
          const hit = received.find(match);
          if (!hit) return;
          waiters.delete(check);
          resolve(hit);
        };
        waiters.add(check);
        check();
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
