/**
 * The protocol's message validation, in isolation (property) and on the live
 * server: arbitrary strings, JSON and bytes sent on `WS /ws` get an `error`
 * message, and the connection keeps working (a ping still gets its pong).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import type WebSocket from 'ws';
import { clientMessageSchema, MAX_CLIENT_MESSAGE_BYTES } from '../../src/shared/protocol.ts';
import { parseTopic } from '../../src/shared/topics.ts';
import { type ServerProcess, startServer } from '../helpers/server.ts';
import { closeSocket, handshake, nextMessage } from './helpers.ts';

const messageLike = fc.oneof(
  fc.jsonValue(),
  fc.record(
    {
      type: fc.oneof(
        fc.constantFrom('subscribe', 'unsubscribe', 'resume', 'ping', 'hello'),
        fc.string(),
      ),
      topics: fc.oneof(
        fc.array(fc.string()),
        fc.dictionary(fc.string(), fc.jsonValue()),
        fc.jsonValue(),
      ),
      epoch: fc.jsonValue(),
      seq: fc.jsonValue(),
      id: fc.jsonValue(),
    },
    { requiredKeys: [] },
  ),
);

describe('clientMessageSchema (property)', () => {
  it('validates anything without throwing; what it accepts is well-formed', () => {
    fc.assert(
      fc.property(fc.oneof(messageLike, fc.anything()), (value) => {
        const parsed = clientMessageSchema.safeParse(value);
        if (!parsed.success) {
          assert.ok(parsed.error.issues.length > 0);
          return;
        }
        const m = parsed.data;
        if (m.type === 'subscribe' || m.type === 'unsubscribe') {
          assert.ok(m.topics.length >= 1 && m.topics.length <= 256);
          for (const t of m.topics) assert.ok(typeof t === 'string' && t.length <= 600);
        } else if (m.type === 'resume') {
          assert.ok(Number.isInteger(m.seq) && m.seq >= 0);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('parseTopic never throws and only accepts known kinds', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (name) => {
        const t = parseTopic(name);
        if (t)
          assert.ok(
            ['sessions', 'session', 'logs', 'metrics', 'plans', 'plan', 'analytics'].includes(
              t.kind,
            ),
          );
      }),
      { numRuns: 1000 },
    );
  });
});

describe('WS /ws under arbitrary input', () => {
  let dir = '';
  let server: ServerProcess;
  let ws: WebSocket;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ls-wsfuzz-'));
    server = await startServer(['--root', dir, '--db', join(dir, 'h.db')]);
    const opened = await handshake(`${server.url.replace('http', 'ws')}/ws`);
    assert.ok(opened.open);
    assert.equal(opened.first.type, 'welcome');
    ws = opened.ws;
  });

  after(async () => {
    if (ws) await closeSocket(ws);
    await server?.stop('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  let pingId = 0;
  /** The connection still answers: a ping gets its pong. */
  async function alive(): Promise<void> {
    const id = ++pingId;
    const pong = nextMessage(ws, (m) => m.type === 'pong' && m.id === id);
    ws.send(JSON.stringify({ type: 'ping', id }));
    await pong;
  }

  it('answers invalid frames with a clear error and keeps the connection', async () => {
    const frames = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 400 }).map((s) => ({ data: s, binary: false })),
      fc.uint8Array({ maxLength: 400 }).map((b) => ({ data: Buffer.from(b), binary: true })),
      messageLike.map((v) => ({ data: JSON.stringify(v) ?? 'null', binary: false })),
    );
    let errors = 0;
    await fc.assert(
      fc.asyncProperty(frames, async ({ data, binary }) => {
        const text = Buffer.isBuffer(data) ? data.toString('utf8') : data;
        let valid = false;
        try {
          valid = clientMessageSchema.safeParse(JSON.parse(text)).success;
        } catch {
          valid = false;
        }
        fc.pre(!valid);
        const error = nextMessage(ws, (m) => m.type === 'error');
        ws.send(data, { binary });
        const message = await error;
        assert.ok(message.code === 'bad_message' || message.code === 'too_large');
        assert.ok(typeof message.message === 'string' && message.message.length > 10);
        errors++;
        await alive();
      }),
      { numRuns: 200 },
    );
    assert.ok(errors > 150);
  });

  it('refuses an over-long subscription without dropping the others', async () => {
    const topics = Array.from({ length: 300 }, (_, i) => `session:${i}`);
    const error = nextMessage(ws, (m) => m.type === 'error');
    ws.send(JSON.stringify({ type: 'subscribe', topics }));
    assert.equal((await error).code, 'bad_message');
    const snapshot = nextMessage(ws, (m) => m.type === 'snapshot' && m.topic === 'sessions');
    ws.send(
      JSON.stringify({ type: 'subscribe', topics: ['sessions', 'nonsense-kind', 'session:'] }),
    );
    await snapshot;
    await alive();
  });

  it('closes only on a frame over the size limit, with a clear close code', async () => {
    const opened = await handshake(`${server.url.replace('http', 'ws')}/ws`);
    assert.ok(opened.open);
    const closed = new Promise<number>((resolve) =>
      opened.ws.once('close', (code) => resolve(code)),
    );
    opened.ws.send('x'.repeat(MAX_CLIENT_MESSAGE_BYTES * 2));
    assert.equal(await closed, 1009, 'message too big');
    await alive();
  });
});
