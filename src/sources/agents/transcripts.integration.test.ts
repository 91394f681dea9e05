import assert from 'node:assert/strict';
import { appendFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import {
  claudeAssistant,
  claudePrompt,
  claudeToolResult,
  codexSessionMeta,
  codexTokenCount,
  codexTurnContext,
  lines,
} from '../../../test/helpers/agent-transcripts.ts';
import { testConfig } from '../../../test/helpers/app-config.ts';
import { type App, createApp } from '../../app.ts';
import type { AppConfig } from '../../config.ts';
import type { AgentSummary } from '../../shared/agents.ts';
import { topic } from '../../shared/topics.ts';

const logger = pino({ level: 'silent' });
const temps: string[] = [];
after(async () => {
  for (const dir of temps) await rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ls-agents-'));
  temps.push(dir);
  return dir;
}

const SID = '5f3c2a10-7b1e-4c55-9a0d-2e6f8b9c1d01';
const CODEX = '019a1234-5678-7abc-8def-0123456789ab';
const T0 = Date.now() - 60_000;
const base = (dt: number) => ({ sessionId: SID, at: T0 + dt, cwd: '/home/dev/weather-app' });

function config(home: string, root: string, db: string): AppConfig {
  return testConfig([root], db, {
    agents: {
      claudeDirs: [join(home, '.claude')],
      codexDirs: [join(home, '.codex')],
      pricesFile: null,
      checkpointPath: `${db}.agents.json`,
    },
  });
}

/** Resolves once the `agents` topic satisfies `pred` (waits on the hub's deltas, not on time). */
function waitFor(
  app: App,
  pred: (agents: Record<string, AgentSummary>) => boolean,
): Promise<Record<string, AgentSummary>> {
  const current = () =>
    (app.hub.get(topic('agents'))?.data as { agents: Record<string, AgentSummary> } | undefined)
      ?.agents ?? {};
  return new Promise((resolve, reject) => {
    if (pred(current())) return resolve(current());
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out; agents: ${JSON.stringify(current())}`));
    }, 10_000);
    const off = app.hub.fanout.subscribe(topic('agents'), () => {
      if (!pred(current())) return;
      clearTimeout(timer);
      off();
      resolve(current());
    });
  });
}

async function setup() {
  const home = await tempDir();
  const root = await tempDir();
  const db = join(await tempDir(), 'history.db');
  const project = join(home, '.claude', 'projects', '-home-dev-weather-app');
  await mkdir(join(project, SID, 'subagents'), { recursive: true });
  const codexDir = join(home, '.codex', 'sessions', '2026', '01', '10');
  await mkdir(codexDir, { recursive: true });
  const main = join(project, `${SID}.jsonl`);
  const sub = join(project, SID, 'subagents', 'agent-a77.jsonl');
  const rollout = join(codexDir, `rollout-2026-01-10T09-00-00-${CODEX}.jsonl`);
  return { home, root, db, main, sub, rollout };
}

const firstTurn = [
  claudePrompt(base(0), 'add caching to the client'),
  claudeAssistant(base(100), {
    messageId: 'msg_1',
    requestId: 'req_1',
    usage: { input: 10, output: 2, cache5m: 5000 },
    text: 'Looking',
  }),
  claudeAssistant(base(150), {
    messageId: 'msg_1',
    requestId: 'req_1',
    usage: { input: 10, output: 80, cache5m: 5000 },
    toolUse: {
      id: 'toolu_task',
      name: 'Task',
      input: {
        description: 'Find callers',
        prompt: 'Find every caller of fetchWeather',
        subagent_type: 'Explore',
      },
    },
  }),
];

describe('agent transcripts in a running app', () => {
  it('reads existing transcripts, follows appends live, survives garbage, and restarts without recounting', async () => {
    const f = await setup();
    await writeFile(f.main, lines(firstTurn));
    await writeFile(
      f.sub,
      lines([
        claudePrompt({ ...base(200), agentId: 'a77' }, 'Find every caller of fetchWeather'),
        claudeAssistant(
          { ...base(300), agentId: 'a77' },
          {
            messageId: 'msg_s1',
            requestId: 'req_s1',
            model: 'claude-haiku-4-5-20251001',
            usage: { input: 2000, output: 100 },
          },
        ),
      ]),
    );
    await writeFile(
      f.rollout,
      lines([
        codexSessionMeta(T0, CODEX, '/home/dev/rusty'),
        codexTurnContext(T0 + 1, 'gpt-5-codex', '/home/dev/rusty'),
        codexTokenCount(
          T0 + 5,
          { input: 1000, cached: 0, output: 100 },
          { input: 1000, cached: 0, output: 100 },
        ),
      ]),
    );

    let app = await createApp({ config: config(f.home, f.root, f.db), logger });
    try {
      let agents = await waitFor(app, (a) => a[SID]?.responses === 2 && a[CODEX]?.responses === 1);
      const claude = agents[SID] as AgentSummary;
      assert.equal(claude.kind, 'claude');
      assert.equal(claude.project, 'weather-app');
      assert.equal(claude.subagents, 1);
      assert.equal(claude.runningTools, 1);
      const expected = (10 * 3 + 80 * 15 + 5000 * 3.75) / 1e6 + (2000 * 1 + 100 * 5) / 1e6;
      assert.ok(Math.abs(claude.costUsd - expected) < 1e-9, `${claude.costUsd} vs ${expected}`);
      assert.equal(agents[CODEX]?.model, 'gpt-5-codex');

      // Garbage and a half-written line in the middle of live appends.
      await appendFile(f.main, '{"type":"assistant","mess\nnot json at all\n');
      await appendFile(
        f.main,
        lines([claudeToolResult(base(2000), 'toolu_task', { agentId: 'a77' })]),
      );
      agents = await waitFor(app, (a) => a[SID]?.runningTools === 0);
      const res = await fetch(`${app.url}/api/agents/${SID}`);
      const detail = (await res.json()) as {
        agents: { agentId: string | null; toolUseId: string | null; type: string | null }[];
      };
      assert.deepEqual(
        detail.agents.map((n) => [n.agentId, n.toolUseId, n.type]),
        [
          [null, null, null],
          ['a77', 'toolu_task', 'Explore'],
        ],
      );
      const list = (await (await fetch(`${app.url}/api/agents?kind=codex`)).json()) as {
        agents: AgentSummary[];
      };
      assert.deepEqual(
        list.agents.map((a) => a.id),
        [CODEX],
      );
      const metrics = await (await fetch(`${app.url}/metrics`)).text();
      assert.match(metrics, /livestream_agent_cost_usd \d/);
    } finally {
      await app.stop();
    }
    const before = await costAfterRestart(f);

    // Restart: the checkpoint holds the state and offsets; appends after it count once.
    app = await createApp({ config: config(f.home, f.root, f.db), logger });
    try {
      let agents = await waitFor(app, (a) => a[SID] !== undefined);
      assert.equal(agents[SID]?.responses, 2);
      assert.equal(agents[SID]?.costUsd, before);
      await appendFile(
        f.main,
        lines([
          claudeAssistant(base(3000), {
            messageId: 'msg_2',
            requestId: 'req_2',
            usage: { input: 1, output: 10, cacheRead: 5000 },
            stopReason: 'end_turn',
            text: 'Done',
          }),
        ]),
      );
      agents = await waitFor(app, (a) => a[SID]?.responses === 3);
      assert.equal(agents[SID]?.state, 'idle');

      // A rewritten transcript (shorter: truncated) is taken back and read again.
      await writeFile(f.main, lines(firstTurn));
      agents = await waitFor(app, (a) => a[SID]?.responses === 2 && a[SID]?.toolCalls === 1);
      assert.equal(agents[SID]?.costUsd, before);
    } finally {
      await app.stop();
    }
  });
});

/** The cost the first run left in its checkpoint, read back through a fresh app. */
async function costAfterRestart(f: Awaited<ReturnType<typeof setup>>): Promise<number> {
  const app = await createApp({ config: config(f.home, f.root, f.db), logger, listen: false });
  try {
    const agents = await waitFor(app, (a) => a[SID] !== undefined);
    return agents[SID]?.costUsd ?? -1;
  } finally {
    await app.stop();
  }
}
