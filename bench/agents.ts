import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../e2e/chromium.ts';
import { LivestreamClient } from '../src/client/client.ts';
import type { AgentDetail, AgentSummary } from '../src/shared/agents.ts';
import {
  claudeAssistant,
  claudePrompt,
  claudeToolResult,
} from '../test/helpers/agent-transcripts.ts';
import { claudeApiRequest, otlpLogsJson } from '../test/helpers/otlp-records.ts';
import { type ServerProcess, startServer } from '../test/helpers/server.ts';
import { percentile, printTable } from './stats.ts';

const QUICK = process.argv.includes('--quick');
/** The history the issue names: a month of Claude Code, about 200 MB. */
const HISTORY_BYTES = (QUICK ? 20 : 200) * 1024 * 1024;
const SESSIONS = QUICK ? 40 : 300;
const HOOKS = 300;
const OTLP_ROUNDS = 5;
const OTLP_BATCH = 1000;

/** A deterministic pseudo-random sequence, so every run writes the same history. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/**
 * Writes a Claude Code history: sessions of turns (a prompt; a response
 * written as three lines, the first with partial usage; two tool calls and
 * their results of up to 12 KB of code-like text, as real file reads and test
 * output are; a turn-duration line and a line type the parser skips).
 * Returns the lines written.
 */
async function writeHistory(claudeDir: string): Promise<{ lines: number; turns: number }> {
  const random = rng(15);
  const perSession = HISTORY_BYTES / SESSIONS;
  let lines = 0;
  let turns = 0;
  const start = Date.now() - 20 * 86_400_000;
  for (let s = 0; s < SESSIONS; s++) {
    const sessionId = `0000${s.toString(16).padStart(4, '0')}-1111-4222-8333-444455556666`;
    const cwd = `/home/dev/project-${s % 12}`;
    const dir = join(claudeDir, 'projects', cwd.replaceAll('/', '-'));
    await mkdir(dir, { recursive: true });
    const out = createWriteStream(join(dir, `${sessionId}.jsonl`));
    let bytes = 0;
    let turn = 0;
    let at = start + s * 3_600_000;
    while (bytes < perSession) {
      const b = { sessionId, cwd, at };
      const r = { messageId: `msg_${s}_${turn}`, requestId: `req_${s}_${turn}` };
      const context = 20_000 + turn * 1500;
      const usage = { input: 8, cacheRead: context, cache5m: 1200 };
      const tool = (i: number) => ({
        id: `toolu_${s}_${turn}_${i}`,
        name: i ? 'Bash' : 'Read',
        input: i ? { command: 'npm test' } : { file_path: `/src/file-${turn}.ts` },
      });
      const values = [
        claudePrompt(b, `Turn ${turn}: change the handler so the "tests" pass — ${s}/${turn}`),
        claudeAssistant(
          { ...b, at: at + 900 },
          { ...r, usage: { ...usage, output: 3 }, text: 'Looking at it.' },
        ),
        claudeAssistant(
          { ...b, at: at + 1000 },
          { ...r, usage: { ...usage, output: 420 }, toolUse: tool(0) },
        ),
        claudeAssistant(
          { ...b, at: at + 1100 },
          { ...r, usage: { ...usage, output: 420 }, toolUse: tool(1), stopReason: 'tool_use' },
        ),
        claudeToolResult({ ...b, at: at + 1500 }, tool(0).id, {
          text: code(Math.floor(random() * 160)),
        }),
        claudeToolResult({ ...b, at: at + 4000 }, tool(1).id, {
          text: code(Math.floor(random() * 40)),
        }),
        {
          type: 'system',
          subtype: 'turn_duration',
          durationMs: 4100,
          sessionId,
          timestamp: new Date(at + 4100).toISOString(),
        },
        {
          type: 'file-history-snapshot',
          messageId: r.messageId,
          snapshot: { trackedFileBackups: {} },
        },
      ];
      const text = `${values.map((v) => JSON.stringify(v)).join('\n')}\n`;
      bytes += text.length;
      lines += values.length;
      if (!out.write(text)) await once(out, 'drain');
      turn++;
      turns++;
      at += 60_000;
    }
    out.end();
    await once(out, 'finish');
  }
  return { lines, turns };
}

/** File contents and test output as tools return them: quotes, newlines, tabs, non-ASCII. */
function code(lines: number): string {
  let out = '';
  for (let i = 0; i < lines; i++) {
    out += `${i}\t  const value${i} = await load("item-${i}", { retry: ${i % 3} }); // café ✓\n`;
  }
  return out;
}

/** Peak and current resident memory of a process, in MB (Linux /proc). */
async function memoryOf(pid: number): Promise<{ peak: number; now: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) =>
    Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? Number.NaN);
  return { peak: kb('VmHWM') / 1024, now: kb('VmRSS') / 1024 };
}

async function serve(
  dir: string,
  claudeDir: string,
  db: string,
): Promise<{ server: ServerProcess; ms: number }> {
  const t0 = performance.now();
  const server = await startServer([
    '--root',
    join(dir, 'root'),
    '--db',
    db,
    '--claude-dir',
    claudeDir,
    '--codex-dir',
    join(dir, 'codex'),
  ]);
  return { server, ms: performance.now() - t0 };
}

/** Resolves when `test` holds for the client's state, checked after each change. */
function until(client: LivestreamClient, test: () => boolean, what = 'the client'): Promise<void> {
  if (test()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out waiting for ${what}`));
    }, 30_000);
    const off = client.subscribeStore(() => {
      if (!test()) return;
      off();
      clearTimeout(timer);
      resolve();
    });
  });
}

async function hookLatency(url: string, client: LivestreamClient): Promise<number[]> {
  const sid = 'ab000000-1111-4222-8333-444455556666';
  const post = (body: object) =>
    fetch(`${url}/api/hooks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        session_id: sid,
        transcript_path: '/x.jsonl',
        cwd: '/home/dev/hooks',
        ...body,
      }),
    });
  await post({ hook_event_name: 'SessionStart' });
  const name = `agent:${sid}`;
  await new Promise((r) => setTimeout(r, 50));
  client.subscribe(name);
  const tools = () =>
    (client.topic(name as `agent:${string}`)?.data as AgentDetail | undefined)?.tools ?? [];
  await until(client, () => client.topic(name as `agent:${string}`) !== undefined);
  const latencies: number[] = [];
  for (let i = 0; i < HOOKS; i++) {
    const id = `toolu_hook_${i}`;
    const t0 = performance.now();
    const seen = until(client, () => tools().some((t) => t.id === id), `hook ${i}`);
    const answer = post({
      hook_event_name: 'PreToolUse',
      tool_name: 'Bash',
      tool_input: { command: `npm test -- ${i}` },
      tool_use_id: id,
    });
    await seen;
    latencies.push(performance.now() - t0);
    const answered = await answer;
    if (answered.status !== 200) throw new Error(`hook answered ${answered.status}`);
    // Under the POST rate limit (200 per 4 s per address), as a busy agent is.
    await new Promise((r) => setTimeout(r, 25));
  }
  return latencies;
}

const BROWSER_HOOKS = 100;

/**
 * Hook POST → the tool call's row on the agent page in Chromium, timed by the
 * page itself: it sends the hook and waits for the row to be in the DOM.
 */
async function browserHookLatency(url: string): Promise<{ dom: number[]; frame: number[] }> {
  const sid = 'ab100000-1111-4222-8333-444455556666';
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [...CHROMIUM_ARGS],
  });
  try {
    const page = await browser.newPage();
    const post = (body: object) =>
      fetch(`${url}/api/hooks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ session_id: sid, cwd: '/home/dev/browser', ...body }),
      });
    await post({ hook_event_name: 'SessionStart' });
    await page.goto(`${url}/#/agent/${sid}`);
    await page.locator(`.agent-page[data-agent="${sid}"]`).waitFor();
    const latencies: number[] = [];
    const dom: number[] = [];
    for (let i = 0; i < BROWSER_HOOKS; i++) {
      // A string, not a function: tsx would wrap a function's inner closures in helpers the page lacks.
      const ms = (await page.evaluate(`(async () => {
        const id = 'toolu_browser_${i}';
        const t0 = performance.now();
        // The row's DOM commit (a mutation observer), then the frame that paints it.
        const shown = new Promise((resolve) => {
          const found = () => document.querySelector('tr[data-tool="' + id + '"]');
          const done = () => {
            observer.disconnect();
            const dom = performance.now() - t0;
            requestAnimationFrame(() => resolve([dom, performance.now() - t0]));
          };
          const observer = new MutationObserver(() => { if (found()) done(); });
          observer.observe(document.body, { childList: true, subtree: true });
        });
        await fetch('/api/hooks', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            session_id: '${sid}',
            hook_event_name: 'PreToolUse',
            tool_name: 'Bash',
            tool_input: { command: 'npm test -- ${i}' },
            tool_use_id: id,
          }),
        });
        return shown;
      })()`)) as [number, number];
      dom.push(ms[0]);
      latencies.push(ms[1]);
      await new Promise((r) => setTimeout(r, 25));
    }
    return { dom, frame: latencies };
  } finally {
    await browser.close();
  }
}

interface ProtoType {
  fromObject(v: unknown): unknown;
  encode(m: unknown): { finish(): Uint8Array };
}

async function otlpLatency(
  url: string,
  client: LivestreamClient,
  encoding: 'json' | 'protobuf',
): Promise<{ ms: number[]; bytes: number }> {
  const require = createRequire(import.meta.url);
  const root = require('@opentelemetry/otlp-transformer/build/src/generated/root.js');
  const Request = root.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest as ProtoType;
  const list = () =>
    (client.topic('agents')?.data as { agents: Record<string, AgentSummary> } | undefined)
      ?.agents ?? {};
  const ms: number[] = [];
  let bytes = 0;
  for (let round = 0; round < OTLP_ROUNDS; round++) {
    const sid = `0e${encoding === 'json' ? '1' : '2'}${round}0000-1111-4222-8333-444455556666`;
    const now = Date.now();
    const records = Array.from({ length: OTLP_BATCH }, (_, i) =>
      claudeApiRequest({
        sessionId: sid,
        at: now + i,
        requestId: `req_${sid}_${i}`,
        sequence: i,
        input: 10,
        output: 200 + i,
        cacheRead: 30_000 + i * 10,
        cacheCreation: 500,
        costUsd: 0.012,
      }),
    );
    const json = otlpLogsJson(records);
    const body =
      encoding === 'json'
        ? JSON.stringify(json)
        : Buffer.from(Request.encode(Request.fromObject(json)).finish());
    bytes = body.length;
    const t0 = performance.now();
    const seen = until(client, () => list()[sid]?.responses === OTLP_BATCH, `OTLP round ${round}`);
    const r = await fetch(`${url}/v1/logs`, {
      method: 'POST',
      headers: {
        'content-type': encoding === 'json' ? 'application/json' : 'application/x-protobuf',
      },
      body,
    });
    if (r.status !== 200)
      throw new Error(`OTLP ${encoding} batch answered ${r.status}: ${await r.text()}`);
    await seen;
    ms.push(performance.now() - t0);
  }
  return { ms, bytes };
}

/**
 * Issue 15's figures: a 200 MB Claude Code history indexed by `serve` (time
 * over an empty start, lines/s, the server's peak RSS), a restart from the
 * checkpoint, hook POST → protocol client p99 on the agent's topic, and an
 * OTLP batch of 1,000 records → visible, in JSON and protobuf.
 */
export async function run(): Promise<Record<string, number>> {
  const dir = await mkdtemp(join(tmpdir(), 'livestream-bench-agents-'));
  await mkdir(join(dir, 'root'));
  const history = join(dir, 'claude');
  const empty = join(dir, 'claude-empty');
  await mkdir(join(empty, 'projects'), { recursive: true });
  let server: ServerProcess | null = null;
  let client: LivestreamClient | null = null;
  try {
    const tw = performance.now();
    const { lines, turns } = await writeHistory(history);
    process.stdout.write(
      `wrote ${(HISTORY_BYTES / 1024 / 1024).toFixed(0)} MB, ${lines} lines in ${((performance.now() - tw) / 1000).toFixed(1)} s\n`,
    );

    const step = (text: string) => process.stdout.write(`${text}\n`);
    // The empty start is the baseline the history's start is measured over: the median of 3.
    const empties: number[] = [];
    let baseMemory = { peak: 0, now: 0 };
    for (let i = 0; i < 3; i++) {
      const base = await serve(dir, empty, join(dir, `empty-${i}.db`));
      empties.push(base.ms);
      baseMemory = await memoryOf(base.server.child.pid as number);
      await base.server.stop();
    }
    const emptyMs = percentile(empties, 50);
    step(`empty start: ${emptyMs.toFixed(0)} ms (median of 3)`);
    const cold = await serve(dir, history, join(dir, 'h.db'));
    server = cold.server;
    step(`start with the history: ${cold.ms.toFixed(0)} ms`);
    const memory = await memoryOf(server.child.pid as number);
    const ingestMs = cold.ms - emptyMs;
    const listed = (await (await fetch(`${server.url}/api/agents`)).json()) as {
      count: number;
      agents: AgentSummary[];
    };
    const count = listed.count;
    const responses = listed.agents.reduce((n, a) => n + a.responses, 0);
    if (count !== SESSIONS || responses !== turns) {
      throw new Error(
        `indexed ${count} sessions and ${responses} responses; wrote ${SESSIONS} and ${turns}`,
      );
    }
    await server.stop();
    const checkpointMb = (await stat(join(dir, 'h.db.agents.json'))).size / 1024 / 1024;

    step(
      `indexed ${count} sessions in ${(ingestMs / 1000).toFixed(2)} s over an empty start, peak RSS ${memory.peak.toFixed(1)} MB (empty start ${baseMemory.peak.toFixed(1)} MB)`,
    );
    const warm = await serve(dir, history, join(dir, 'h.db'));
    server = warm.server;
    const warmMemory = await memoryOf(server.child.pid as number);

    client = new LivestreamClient({ url: `${server.url.replace('http', 'ws')}/ws` });
    client.connect();
    client.subscribe('agents');
    await until(client, () => client?.topic('agents') !== undefined);
    step('protocol client live');
    const hooks = await hookLatency(server.url, client);
    step(
      `hook → client p50 ${percentile(hooks, 50).toFixed(1)} ms, p99 ${percentile(hooks, 99).toFixed(1)} ms, max ${percentile(hooks, 100).toFixed(1)} ms`,
    );
    const browserHooks = await browserHookLatency(server.url);
    step(
      `hook → Chromium row in the DOM p50 ${percentile(browserHooks.dom, 50).toFixed(1)} ms, p99 ${percentile(browserHooks.dom, 99).toFixed(1)} ms; painted p99 ${percentile(browserHooks.frame, 99).toFixed(1)} ms`,
    );
    const json = await otlpLatency(server.url, client, 'json');
    const proto = await otlpLatency(server.url, client, 'protobuf');
    const after = await memoryOf(server.child.pid as number);

    const result = {
      'history MB': HISTORY_BYTES / 1024 / 1024,
      'history lines': lines,
      'sessions indexed': count,
      'indexed in s (over an empty start)': ingestMs / 1000,
      'lines/s': Math.round(lines / (ingestMs / 1000)),
      'MB/s': HISTORY_BYTES / 1024 / 1024 / (ingestMs / 1000),
      'peak RSS MB while indexing': memory.peak,
      'peak RSS MB, empty start': baseMemory.peak,
      'checkpoint MB': checkpointMb,
      'start, empty (median of 3) ms': emptyMs,
      'start with the history ms': cold.ms,
      'restart from checkpoint ms': warm.ms,
      'peak RSS MB, restart from checkpoint': warmMemory.peak,
      'hook → client p50 ms': percentile(hooks, 50),
      'hook → client p99 ms': percentile(hooks, 99),
      'hook → client max ms': percentile(hooks, 100),
      'hook → Chromium row in DOM p50 ms': percentile(browserHooks.dom, 50),
      'hook → Chromium row in DOM p99 ms': percentile(browserHooks.dom, 99),
      'hook → Chromium row painted p50 ms': percentile(browserHooks.frame, 50),
      'hook → Chromium row painted p99 ms': percentile(browserHooks.frame, 99),
      'OTLP 1,000 records JSON KB': json.bytes / 1024,
      'OTLP 1,000 JSON → visible median ms': percentile(json.ms, 50),
      'OTLP 1,000 JSON → visible max ms': percentile(json.ms, 100),
      'OTLP 1,000 records protobuf KB': proto.bytes / 1024,
      'OTLP 1,000 protobuf → visible median ms': percentile(proto.ms, 50),
      'OTLP 1,000 protobuf → visible max ms': percentile(proto.ms, 100),
      'RSS MB at the end': after.now,
    };
    printTable('agents', result);
    return result;
  } finally {
    client?.close();
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
