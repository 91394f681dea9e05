import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const PROBE = fileURLToPath(new URL('../../../test/helpers/tz-probe.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

const AT = Date.UTC(2025, 0, 13, 0, 30);
/** Texts parsed by both parsers in the child, with the instant each must give. */
const TEXTS: [unknown, number | null][] = [
  ['2025-01-13T00:30:00', AT],
  ['2025-01-13T00:30:00Z', AT],
  ['2025-01-13 00:30:00', AT],
  ['2025-01-13T00:30:00.250', AT + 250],
  ['2025-01-13T00:30:00.123456', AT + 123],
  ['2025-01-13T02:30:00+02:00', AT],
  ['2025-01-12T19:30:00-0500', AT],
  ['2025-01-13T06:00:00+05:30', AT],
  ['2025-01-13', Date.UTC(2025, 0, 13)],
  ['Mon, 13 Jan 2025 00:30:00 GMT', AT],
  [AT / 1000, AT],
  [AT, AT],
  ['yesterday', null],
  ['2025-13-45T99:99:99', null],
  ['2025-02-30T00:00:00', null],
  ['2025-01-13T00:30:00 garbage', null],
  ['January 13, 2025 00:30', null],
  ['', null],
  [null, null],
  [-5, null],
  [{}, null],
];

interface Probe {
  tz: string | null;
  offsetMinutes: number;
  localDateParse: number;
  readings: { at: number | null; pointAt: number | null }[];
  events: (number | null)[];
  phase: { startedAt: number | null; reportedAt: number | null } | null;
  instants: (number | null)[];
  llm: (number | null)[];
}

let dir = '';
let files: string[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tokens-tz-'));
  const sessionLog = join(dir, 'session.jsonl');
  const eventsLog = join(dir, 'events.jsonl');
  const phaseFile = join(dir, 'current-phase.json');
  const line = (timestamp: unknown, input: number) =>
    `${JSON.stringify({ timestamp, prompt: 'p', response: 'r', metadata: { input_tokens: input, output_tokens: 1, model: 'm' } })}\n`;
  await writeFile(
    sessionLog,
    line('2025-01-13T00:30:00', 10) +
      line('2025-01-13T00:30:00Z', 11) +
      line('2025-01-13T01:30:00+01:00', 12) +
      line('not a time', 13) +
      line(1_736_728_200, 14),
  );
  await writeFile(
    eventsLog,
    `${JSON.stringify({ type: 'phase_change', session_id: 's', timestamp: '2025-01-13T00:30:00', sequence: 1, data: { to: 'Builder' } })}\n` +
      `${JSON.stringify({ type: 'log_line', session_id: 's', timestamp: 'garbage', sequence: 2, data: { line: 'x' } })}\n`,
  );
  await writeFile(
    phaseFile,
    JSON.stringify({
      session_id: 's',
      current_phase: 'Builder',
      phase_number: '2/7',
      status: 'in_progress',
      started_at: '2025-01-13T00:30:00',
      last_updated: '2025-01-13T00:30:00Z',
    }),
  );
  files = [sessionLog, eventsLog, phaseFile];
});

after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function probe(tz: string): Promise<Probe> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', PROBE, ...files], {
    cwd: ROOT,
    env: { ...process.env, TZ: tz, PROBE_TEXTS: JSON.stringify(TEXTS.map(([t]) => t)) },
    timeout: 60_000,
  });
  return JSON.parse(stdout) as Probe;
}

for (const [tz, offsetMinutes] of [
  ['America/New_York', 300],
  ['Asia/Kolkata', -330],
] as const) {
  describe(`timestamps read with TZ=${tz}`, () => {
    let p: Probe;
    before(async () => {
      p = await probe(tz);
    });

    it('the child really runs in a non-UTC zone, where Date.parse reads zone-less text as local', () => {
      assert.equal(p.tz, tz);
      assert.equal(p.offsetMinutes, offsetMinutes);
      assert.equal(p.localDateParse, AT + offsetMinutes * 60_000);
    });

    it('a zone-less session.jsonl timestamp is the phase-file instant and the "…Z" instant', () => {
      assert.deepEqual(p.phase, { startedAt: AT, reportedAt: AT });
      assert.deepEqual(
        p.readings.map((r) => r.at),
        [AT, AT, AT, null, AT],
      );
    });

    it('token points carry that instant; an unreadable time falls back to the receipt time', () => {
      assert.deepEqual(
        p.readings.map((r) => r.pointAt),
        [AT, AT, AT, 42, AT],
      );
    });

    it('event lines read their timestamp by the same rule', () => {
      assert.deepEqual(p.events, [AT, 42]);
    });

    it('explicit zones are honoured and garbage is null, the same in both parsers', () => {
      assert.deepEqual(
        p.instants,
        TEXTS.map(([, ms]) => ms),
      );
      assert.deepEqual(p.llm, p.instants);
    });
  });
}
