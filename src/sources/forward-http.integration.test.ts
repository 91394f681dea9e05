import assert from 'node:assert/strict';
import { once } from 'node:events';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { test } from 'node:test';
import { ForwardClient } from './forward-http.ts';

/**
 * A server that answers each connection's first request and resets the
 * connection on its second, as a server closing an idle kept-alive socket
 * just as the next batch goes out on it.
 */
async function resettingServer() {
  const connections: Socket[] = [];
  let answered = 0;
  const server = createServer((socket) => {
    connections.push(socket);
    let requests = 0;
    socket.on('data', (chunk) => {
      if (!chunk.toString().includes('\r\n\r\n')) return;
      requests++;
      if (requests > 1) {
        socket.resetAndDestroy();
        return;
      }
      answered++;
      const body = JSON.stringify({ acked: answered });
      socket.write(
        `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: keep-alive\r\n\r\n${body}`,
      );
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/api/forward`, connections, server };
}

test('a kept-alive socket reset as a batch goes out on it: the batch goes again on a new one', async () => {
  const { url, connections, server } = await resettingServer();
  const client = new ForwardClient(url);
  try {
    const first = await client.post('{"n":1}', {}, 5000);
    assert.deepEqual([first.status, JSON.parse(first.text)], [200, { acked: 1 }]);
    const second = await client.post('{"n":2}', {}, 5000);
    assert.deepEqual([second.status, JSON.parse(second.text)], [200, { acked: 2 }]);
    assert.equal(connections.length, 2, 'the second batch went on a new connection');
  } finally {
    client.close();
    server.close();
  }
});

test('a server that is not there: the error says so at once (no retry loop)', async () => {
  const { url, server } = await resettingServer();
  server.close();
  await once(server, 'close');
  const client = new ForwardClient(url);
  try {
    await assert.rejects(client.post('{}', {}, 5000), /ECONNREFUSED/);
  } finally {
    client.close();
  }
});
