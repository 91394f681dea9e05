import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createElement } from 'react';
import { renderToString } from 'react-dom/server';
import { startTestServer } from '../../test/helpers/ws-server.ts';
import { LivestreamClient } from './client.ts';
import { useConnection, useTopic } from './react.ts';

function View({ client }: { client: LivestreamClient }) {
  const metrics = useTopic(client, 'metrics:m');
  const connection = useConnection(client);
  const tokens = (metrics?.data as { tokens?: number } | null | undefined)?.tokens;
  return createElement('p', null, `${connection.status}:${tokens ?? 'none'}`);
}

test('useTopic and useConnection read the client store', async (t) => {
  const server = await startTestServer();
  t.after(() => server.close());
  server.hub.set('metrics:m', { tokens: 42 });
  const client = new LivestreamClient({ url: `${server.url}/ws` });
  t.after(() => client.close());
  assert.equal(renderToString(createElement(View, { client })), '<p>offline:none</p>');
  const release = client.subscribe('metrics:m');
  client.connect();
  await new Promise<void>((resolve) => {
    const off = client.on(() => {
      if (client.topic('metrics:m') === undefined) return;
      off();
      resolve();
    });
  });
  assert.equal(renderToString(createElement(View, { client })), '<p>live:42</p>');
  release();
});
