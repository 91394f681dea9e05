import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/** What the server answered a batch with. */
export interface ForwardAnswer {
  status: number;
  /** The body, as text (up to `MAX_ANSWER_BYTES`). */
  text: string;
  /** `Retry-After`, when given. */
  retryAfter: string | null;
  /** `Location`, when the server redirects (not followed: the forwarder is pointed at the wrong address). */
  location: string | null;
}

/** A kept-alive socket the server had closed: the request never reached it. */
class ReusedSocketReset extends Error {
  constructor(original: Error) {
    super(original.message, { cause: original });
  }
}

/** An answer is a small JSON acknowledgement or error; more is not a Livestream server. */
const MAX_ANSWER_BYTES = 1024 * 1024;

/**
 * The forwarder's HTTP client: one kept-alive connection to its server over
 * node:http(s). It replaced `fetch`, whose WHATWG streams, headers and
 * response objects were the largest part of a busy forwarder's CPU (it posts
 * a small batch per file change or so).
 */
export class ForwardClient {
  readonly #url: URL;
  readonly #agent: HttpAgent;
  readonly #request: typeof httpRequest;

  /** `url`: where batches go (the server's `/api/forward`). */
  constructor(url: string) {
    this.#url = new URL(url);
    const https = this.#url.protocol === 'https:';
    // One batch in flight at a time: one socket, kept between batches.
    const options = { keepAlive: true, maxSockets: 1 };
    this.#agent = https ? new HttpsAgent(options) : new HttpAgent(options);
    this.#request = https ? (httpsRequest as typeof httpRequest) : httpRequest;
  }

  /** Posts `body` (JSON text); rejects when the server cannot be reached or does not answer in time. */
  async post(
    body: string,
    headers: Record<string, string>,
    timeoutMs: number,
  ): Promise<ForwardAnswer> {
    try {
      return await this.#post(body, headers, timeoutMs);
    } catch (error) {
      // The server closed the kept-alive socket (its idle timeout) as this batch went out on it:
      // the batch was not read, and a new connection takes it (Node's documented pattern).
      if (!(error instanceof ReusedSocketReset)) throw error;
      return await this.#post(body, headers, timeoutMs);
    }
  }

  #post(body: string, headers: Record<string, string>, timeoutMs: number): Promise<ForwardAnswer> {
    return new Promise((resolve, reject) => {
      const req = this.#request(this.#url, {
        method: 'POST',
        agent: this.#agent,
        headers: {
          ...headers,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
        signal: AbortSignal.timeout(timeoutMs),
      });
      req.on('error', (error: NodeJS.ErrnoException) => {
        reject(
          req.reusedSocket && error.code === 'ECONNRESET' ? new ReusedSocketReset(error) : error,
        );
      });
      req.on('response', (response: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_ANSWER_BYTES) {
            response.destroy(new Error(`the answer is over ${MAX_ANSWER_BYTES} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        response.on('error', reject);
        response.on('end', () => {
          const header = (name: string) => {
            const value = response.headers[name];
            return typeof value === 'string' ? value : null;
          };
          resolve({
            status: response.statusCode ?? 0,
            text: Buffer.concat(chunks).toString('utf8'),
            retryAfter: header('retry-after'),
            location: header('location'),
          });
        });
      });
      req.end(body);
    });
  }

  /** Closes the kept-alive connection. */
  close(): void {
    this.#agent.destroy();
  }
}
