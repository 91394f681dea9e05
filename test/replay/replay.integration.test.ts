import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LivestreamClient } from '../../src/client/client.ts';
import type { SessionDetail, SessionStatus } from '../../src/shared/model.ts';
import { type ServerProcess, startServer, waitFor } from '../helpers/server.ts';
import {
  bigArtifact,
  currentTemplate,
  expectedSequence,
  failedBuild,
  type Seen,
  type Step,
  secondRun,
  seenLine,
} from './corpus.ts';

/** What a legacy `WS /ws/:id` viewer received. */
class LegacyViewer {
  readonly statuses: Record<string, unknown>[] = [];
  readonly sizes: number[] = [];
  completes = 0;
  #ws: WebSocket | null = null;

  async open(url: string, key: string): Promise<void> {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/ws/${encodeURIComponent(key)}`);
    ws.addEventListener('message', (event) => {
      const text = String(event.data);
      const m = JSON.parse(text) as { type: string; data?: Record<string, unknown> | null };
      if (m.type === 'status' && m.data) {
        this.statuses.push(m.data);
        this.sizes.push(text.length);
      }
      if (m.type === 'complete') this.completes++;
    });
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener('open', () => resolve(), { once: true });
      ws.addEventListener('error', () => reject(new Error('legacy socket failed')), { once: true });
    });
    this.#ws = ws;
  }

  close(): void {
    this.#ws?.close();
  }

  lines(): string[] {
    const out: string[] = [];
    for (const s of this.statuses) {
      const state = s.is_complete
        ? 'completed'
        : s.status === 'tests_failed_max_iterations' || s.status === 'failed'
          ? 'failed'
          : 'active';
      const line = seenLine({
        phase: String(s.current_phase),
        state,
        progress: s.progress_percent as number | null,
      });
      if (out.at(-1) !== line) out.push(line);
    }
    return out;
  }
}

/** What a `/ws` protocol viewer (the web page's and the TUI's client) received. */
class ProtocolViewer {
  readonly lines: string[] = [];
  readonly client: LivestreamClient;

  constructor(url: () => string, key: string) {
    this.client = new LivestreamClient({
      url: () => `${url().replace(/^http/, 'ws')}/ws`,
      backoff: { initialMs: 20, maxMs: 200 },
    });
    this.client.subscribe(`session:${key}`);
    this.client.subscribeStore(() => {
      const detail = this.client.getSnapshot().topics[`session:${key}`]?.data as
        | SessionDetail
        | null
        | undefined;
      const s = detail?.status;
      if (!s) return;
      const line = seenLine({ phase: s.currentPhase, state: s.state, progress: s.progressPercent });
      if (this.lines.at(-1) !== line) this.lines.push(line);
    });
    this.client.connect();
  }
}

async function status(url: string, key: string): Promise<SessionStatus | null> {
  const response = await fetch(`${url}/api/sessions`);
  const body = (await response.json()) as { sessions: SessionStatus[] };
  return body.sessions.find((s) => s.id === key) ?? null;
}

function matches(s: SessionStatus | null, e: Seen): boolean {
  return (
    s !== null &&
    s.currentPhase === e.phase &&
    s.state === e.state &&
    s.progressPercent === e.progress &&
    (e.loops === undefined || s.loops === e.loops)
  );
}

interface Harness {
  url: () => string;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

async function harness(root: string, db: string): Promise<Harness> {
  let server: ServerProcess = await startServer(['--root', root, '--db', db]);
  return {
    url: () => server.url,
    async restart() {
      await server.stop();
      server = await startServer(['--root', root, '--db', db]);
    },
    stop: () => server.stop().then(() => undefined),
  };
}

/**
 * Replays steps: each document written in place (`file`) or POSTed with the
 * same body (`push`); waits until the API shows the expected state before the
 * next step, so every state is one a viewer must see.
 */
async function replay(
  h: Harness,
  steps: readonly Step[],
  deliver: (doc: Record<string, unknown>) => Promise<void>,
  onRestart: () => Promise<void>,
): Promise<void> {
  for (const step of steps) {
    if (step.restart) {
      await h.restart();
      await onRestart();
      continue;
    }
    if (step.doc) await deliver(step.doc);
    const e = step.expect;
    if (e) {
      await waitFor(
        async () => (matches(await status(h.url(), e.key), e) ? true : undefined),
        5000,
        `${e.key} at ${seenLine(e)}`,
      );
    }
  }
}

describe('replay: real-producer builds through the real server', () => {
  let dir: string;
  let root: string;
  let h: Harness;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'livestream-replay-'));
    root = join(dir, 'root');
    await mkdir(root, { recursive: true });
    h = await harness(root, join(dir, 'history.db'));
  });

  after(async () => {
    await h?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('file-fed: the current template completes once, at GitHub Integration; progress never goes back; a restart in the middle', async () => {
    const project = 'tide-tracker';
    const folder = join(root, project, '.context-foundry');
    await mkdir(folder, { recursive: true });
    const file = join(folder, 'current-phase.json');
    const steps = currentTemplate(project);
    // The session appears with the first document: write it, then connect the viewers.
    const [first, ...rest] = steps as [Step, ...Step[]];
    await replay(
      h,
      [first],
      (doc) => writeFile(file, JSON.stringify(doc, null, 2)),
      async () => {},
    );
    const legacy = [new LegacyViewer()];
    await (legacy[0] as LegacyViewer).open(h.url(), project);
    const protocol = new ProtocolViewer(h.url, project);
    await waitFor(() => (protocol.lines.length > 0 ? true : undefined), 5000, 'protocol snapshot');
    try {
      await replay(
        h,
        rest,
        (doc) => writeFile(file, JSON.stringify(doc, null, 2)),
        async () => {
          const viewer = new LegacyViewer();
          await viewer.open(h.url(), project);
          legacy.push(viewer);
          const epoch = protocol.client.getSnapshot().connection.epoch;
          // The page's client reconnects to the new server and resumes before the build goes on.
          await waitFor(
            () => {
              const c = protocol.client.getSnapshot();
              return c.connection.status === 'live' &&
                c.connection.epoch !== epoch &&
                c.topics[`session:${project}`]
                ? true
                : undefined;
            },
            10_000,
            'protocol client back',
          );
        },
      );
      const expected = expectedSequence(steps, project);
      await waitFor(
        () => (protocol.lines.at(-1) === expected.at(-1) ? true : undefined),
        5000,
        'protocol viewer at the end',
      );
      await waitFor(
        () => (legacy.at(-1)?.lines().at(-1) === expected.at(-1) ? true : undefined),
        5000,
        'legacy viewer at the end',
      );
      // Across the restart the legacy viewer reconnects: its second socket starts with the state it last saw.
      const seen = legacy.flatMap((v) => v.lines()).filter((l, i, all) => all[i - 1] !== l);
      assert.deepEqual(seen, expected);
      assert.deepEqual(protocol.lines, expected);
      assert.equal(
        legacy.reduce((n, v) => n + v.completes, 0),
        1,
        'complete is sent exactly once',
      );
      const percents = legacy.flatMap((v) => v.statuses.map((s) => s.progress_percent as number));
      for (let i = 1; i < percents.length; i++)
        assert.ok(
          (percents[i] as number) >= (percents[i - 1] as number),
          `progress went back: ${percents.join(', ')}`,
        );

      const done = (await status(h.url(), project)) as SessionStatus;
      assert.equal(done.loops, 1);
      assert.equal(done.template, 'cf-github');
      // The LLM's clock is months off; elapsed counts from the first-seen mtime.
      assert.equal(done.startedAt, Date.parse('2025-01-13T00:30:00Z'));
      assert.ok(Number.isInteger(done.firstSeenAt) && done.firstSeenAt > Date.parse('2026-01-01'));
      const phases = (await (await fetch(`${h.url()}/api/phases/${project}`)).json()) as {
        timeline: { phase: string; loop?: number }[];
      };
      assert.deepEqual(
        phases.timeline.map((t) => `${t.phase}${t.loop ? `#${t.loop}` : ''}`),
        [
          'Builder',
          'Test',
          'Builder#1',
          'Test#1',
          'Screenshot#1',
          'Documentation#1',
          'Deploy#1',
          'Feedback#1',
          'GitHub Integration#1',
        ],
      );
      const logs = (await (await fetch(`${h.url()}/api/logs/${project}?lines=200`)).json()) as {
        lines: { text: string }[];
      };
      assert.equal(logs.lines.filter((l) => /^Session completed/.test(l.text)).length, 1);

      // A new build in the same folder is run 2; run 1 stays viewable as it ended.
      await replay(
        h,
        secondRun(project),
        (doc) => writeFile(file, JSON.stringify(doc)),
        async () => {},
      );
      const old = await status(h.url(), project);
      assert.equal(old?.state, 'completed');
      assert.equal(old?.currentPhase, 'GitHub Integration');
      const run2 = await status(h.url(), `${project}-run2`);
      assert.equal(run2?.run, 2);
      assert.equal(
        run2?.firstSeenAt !== undefined && run2.firstSeenAt >= (old?.changedAt ?? 0),
        true,
      );
      assert.equal(
        legacy.reduce((n, v) => n + v.completes, 0),
        1,
      );
    } finally {
      for (const v of legacy) v.close();
      protocol.client.close();
    }
  });

  test('push-fed: documents without session_id land on the pushing build; complete once', async () => {
    const project = 'harbour-log';
    const steps = currentTemplate(project).filter((s) => !s.restart);
    const push = async (doc: Record<string, unknown>) => {
      const r = await fetch(`${h.url()}/api/phase-update`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(doc),
      });
      assert.equal(r.status, 200, await r.text());
    };
    const [first, ...rest] = steps as [Step, ...Step[]];
    await replay(h, [first], push, async () => {});
    const legacy = new LegacyViewer();
    await legacy.open(h.url(), project);
    try {
      await replay(h, rest, push, async () => {});
      const expected = expectedSequence(steps, project);
      await waitFor(
        () => (legacy.lines().at(-1) === expected.at(-1) ? true : undefined),
        5000,
        'legacy viewer at the end',
      );
      assert.deepEqual(legacy.lines(), expected);
      assert.equal(legacy.completes, 1);
    } finally {
      legacy.close();
    }
    // With two builds pushing, a document that could be either's is refused with the reason.
    for (const id of ['gull-count', 'kelp-watch'])
      await push({
        session_id: id,
        current_phase: 'Scout',
        phase_number: '1/7',
        status: 'researching',
      });
    const refused = await fetch(`${h.url()}/api/phase-update`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        current_phase: 'Architect',
        phase_number: '2/7',
        status: 'designing',
      }),
    });
    assert.equal(refused.status, 409);
    assert.match(
      ((await refused.json()) as { message: string }).message,
      /several builds.*gull-count.*kelp-watch.*session_id/,
    );
    // One whose completed phases only one of them has is that one's.
    await push({
      session_id: 'kelp-watch',
      current_phase: 'Scout',
      phase_number: '1/7',
      status: 'completed',
      phases_completed: ['Scout'],
    });
    await push({
      current_phase: 'Architect',
      phase_number: '2/7',
      status: 'designing',
      phases_completed: ['Scout'],
    });
    assert.equal((await status(h.url(), 'kelp-watch'))?.currentPhase, 'Architect');
    assert.equal((await status(h.url(), 'gull-count'))?.currentPhase, 'Scout');
  });

  test('a build that runs out of test iterations is failed, with no complete', async () => {
    const project = 'reef-map';
    const folder = join(root, project, '.context-foundry');
    await mkdir(folder, { recursive: true });
    const file = join(folder, 'current-phase.json');
    const steps = failedBuild(project);
    const [first, ...rest] = steps as [Step, ...Step[]];
    await replay(
      h,
      [first],
      (doc) => writeFile(file, JSON.stringify(doc)),
      async () => {},
    );
    const legacy = new LegacyViewer();
    await legacy.open(h.url(), project);
    try {
      await replay(
        h,
        rest,
        (doc) => writeFile(file, JSON.stringify(doc)),
        async () => {},
      );
      await waitFor(() =>
        legacy.statuses.at(-1)?.status === 'tests_failed_max_iterations' ? true : undefined,
      );
      assert.equal(legacy.completes, 0);
    } finally {
      legacy.close();
    }
  });

  test('ralph: Scout is kept, artifacts are summarised, COMPLETE completes once', async () => {
    const id = 'ralph-tides';
    const folder = join(root, 'checkpoints', 'ralph', id);
    await mkdir(folder, { recursive: true });
    const state = (fields: Record<string, unknown>) =>
      JSON.stringify({
        project_name: 'tides',
        task_description: 'A tide table app',
        session_id: id,
        start_time: '2026-02-01T09:00:00.123456',
        iterations: 1,
        completed_tasks: [],
        failed_attempts: [],
        artifacts: { research: bigArtifact() },
        ...fields,
      });
    // The runner saves state.json only after its first iteration: it already says architect.
    await writeFile(
      join(folder, 'state.json'),
      state({ current_phase: 'architect', last_phase: 'scout' }),
    );
    await waitFor(async () =>
      (await status(h.url(), id))?.currentPhase === 'architect' ? true : undefined,
    );
    const legacy = new LegacyViewer();
    await legacy.open(h.url(), id);
    try {
      await writeFile(
        join(folder, 'state.json'),
        state({ current_phase: 'builder', last_phase: 'architect', iterations: 2 }),
      );
      await waitFor(async () =>
        (await status(h.url(), id))?.currentPhase === 'builder' ? true : undefined,
      );
      await writeFile(
        join(folder, 'state.json'),
        state({ current_phase: 'complete', last_phase: 'builder', iterations: 3 }),
      );
      await writeFile(join(folder, 'COMPLETE'), '');
      await waitFor(async () =>
        (await status(h.url(), id))?.state === 'completed' ? true : undefined,
      );
      await waitFor(() => (legacy.completes === 1 ? true : undefined));
      const phases = (await (await fetch(`${h.url()}/api/phases/${id}`)).json()) as {
        timeline: { phase: string }[];
      };
      assert.deepEqual(
        phases.timeline.map((t) => t.phase),
        ['scout', 'architect', 'builder', 'complete'],
      );
      for (const size of legacy.sizes) assert.ok(size < 8192, `legacy status of ${size} bytes`);

      // Each event is written to events.jsonl and posted to /api/broadcast with the same envelope.
      const events = [
        { type: 'phase_change', data: { phase: 'scout', context_percent: 0 } },
        { type: 'iteration_start', data: { iteration: 1 } },
        { type: 'log_line', data: { line: 'Using 2 patterns', level: 'info' } },
      ].map((e, i) => ({
        ...e,
        session_id: id,
        timestamp: `2026-02-01T09:00:0${i}.5`,
        sequence: i + 1,
      }));
      const eventsDir = join(root, 'logs', 'events', id);
      await mkdir(eventsDir, { recursive: true });
      await writeFile(
        join(eventsDir, 'events.jsonl'),
        events.map((e) => `${JSON.stringify(e)}\n`).join(''),
      );
      const eventLines = async () =>
        (
          (await (await fetch(`${h.url()}/api/logs/${id}?lines=500`)).json()) as {
            lines: { kind?: string; text: string }[];
          }
        ).lines.filter((l) => l.kind !== undefined);
      await waitFor(
        async () => ((await eventLines()).length === 3 ? true : undefined),
        5000,
        'events from events.jsonl',
      );
      const broadcast = async (e: unknown) => {
        const r = await fetch(`${h.url()}/api/broadcast/${id}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(e),
        });
        assert.equal(r.status, 200);
      };
      for (const e of events) await broadcast(e);
      // A new event after the copies: once it is in the log, any copy would be too.
      await broadcast({
        type: 'completion',
        session_id: id,
        timestamp: '2026-02-01T09:00:09',
        sequence: 4,
        data: { success: true },
      });
      await waitFor(async () =>
        (await eventLines()).some((l) => l.kind === 'completion') ? true : undefined,
      );
      assert.deepEqual(
        (await eventLines()).map((l) => l.text),
        [
          'phase_change: scout',
          'iteration_start: iteration 1',
          'log_line: Using 2 patterns',
          'completion: {"success":true}',
        ],
      );
      const artifacts = (legacy.statuses.at(-1) as { artifacts?: { research?: unknown } })
        .artifacts;
      assert.match(String(artifacts?.research), /KB of text \(not shown\)/);
      assert.equal(legacy.completes, 1);
    } finally {
      legacy.close();
    }
  });
});
