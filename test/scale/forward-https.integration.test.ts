import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runCli, waitFor } from '../helpers/server.ts';

/**
 * The forwarder speaks node:http(s) itself (not fetch): over HTTPS it trusts
 * what Node trusts (a private authority through NODE_EXTRA_CA_CERTS), and a
 * redirect is not followed but named in the error, so the user fixes `--to`.
 */
const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

/** A build machine's folder with one build in it. */
async function machine(name: string) {
  const dir = await mkdtemp(join(tmpdir(), `livestream-forward-${name}-`));
  dirs.push(dir);
  const project = join(dir, 'root', 'weather-app', '.context-foundry');
  await mkdir(project, { recursive: true });
  await writeFile(
    join(project, 'current-phase.json'),
    JSON.stringify({ session_id: 'weather-app', current_phase: 'Builder', status: 'in_progress' }),
  );
  return dir;
}

/** A throwaway authority and a certificate for 127.0.0.1 it signed (openssl). */
async function authority(dir: string) {
  const pki = join(dir, 'pki');
  await mkdir(pki);
  const openssl = (args: string) =>
    execFileSync('openssl', args.split(' '), { cwd: pki, stdio: 'pipe' });
  openssl(
    'req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=livestream-test-ca -keyout ca.key -out ca.pem',
  );
  openssl('req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout server.key -out server.csr');
  await writeFile(join(pki, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  openssl(
    'x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 -extfile san.ext -out server.pem',
  );
  return {
    ca: join(pki, 'ca.pem'),
    key: await readFile(join(pki, 'server.key')),
    cert: await readFile(join(pki, 'server.pem')),
  };
}

/** Starts `server`, then `livestream forward` from `dir` to it, its output collected; `stop` ends both. */
async function forwardTo(server: Server, scheme: string, dir: string, env: NodeJS.ProcessEnv) {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const child = runCli(
    [
      ...['forward', '--to', `${scheme}://127.0.0.1:${port}`, '--host', 'ci-9'],
      ...['--root', join(dir, 'root'), '--outbox', join(dir, 'outbox.db')],
    ],
    env,
  );
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  return {
    output: () => output,
    stop: async () => {
      child.kill('SIGTERM');
      if (child.exitCode === null) await once(child, 'exit');
      server.close();
    },
  };
}

test('over HTTPS with a private authority: batches arrive, the answer is read', async () => {
  const dir = await machine('https');
  const tls = await authority(dir);
  const batches: { events: { seq: number }[] }[] = [];
  const server = createHttpsServer({ key: tls.key, cert: tls.cert }, async (request, response) => {
    let body = '';
    for await (const chunk of request) body += String(chunk);
    const batch = JSON.parse(body) as (typeof batches)[number];
    batches.push(batch);
    const acked = batch.events.at(-1)?.seq ?? 0;
    const ack = { acked, applied: batch.events.length, duplicates: 0, rejected: 0, host: 'ci-9' };
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify(ack));
  });
  const forwarder = await forwardTo(server, 'https', dir, { NODE_EXTRA_CA_CERTS: tls.ca });
  try {
    await waitFor(
      () => (batches.some((b) => b.events.length > 0) ? true : undefined),
      15_000,
      `a batch over HTTPS (${forwarder.output()})`,
    );
    assert.doesNotMatch(forwarder.output(), /unreachable|certificate/i);
  } finally {
    await forwarder.stop();
  }
});

test('a redirect is not followed: the error names where to point --to', async () => {
  const dir = await machine('redirect');
  const server = createHttpServer((request, response) => {
    request.resume();
    response.writeHead(308, { location: 'https://livestream.example/api/forward' });
    response.end();
  });
  const forwarder = await forwardTo(server, 'http', dir, { LIVESTREAM_LOG_LEVEL: 'info' });
  const named =
    /redirected to https:\/\/livestream\.example\/api\/forward: use --to https:\/\/livestream\.example\)/;
  try {
    await waitFor(
      () => (named.test(forwarder.output()) ? true : undefined),
      15_000,
      `the redirect named (${forwarder.output()})`,
    );
    assert.match(forwarder.output(), /the server did not take the batch/);
  } finally {
    await forwarder.stop();
  }
});
