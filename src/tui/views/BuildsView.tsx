import { Box, Text } from 'ink';
import { memo } from 'react';
import { type AgentSummary, totalTokens } from '../../shared/agents.ts';
import type { BuildsState } from '../state.ts';
import { fit, windowAround } from './format.ts';

const MACHINE_WIDTH = 14;
const STATE_COLOR = { active: 'yellow', completed: 'green', failed: 'red' } as const;

/** Live build sessions from a running server, or how to get them. */
export const BuildsView = memo(function BuildsView({
  builds,
  cursor,
  height,
  width,
}: {
  builds: BuildsState;
  cursor: number;
  height: number;
  width: number;
}) {
  if (builds.url === null) {
    return (
      <Box flexDirection="column">
        <Text bold>Builds</Text>
        <Text>Live build sessions come from a running Livestream server:</Text>
        <Text> 1. in your projects folder run: livestream serve</Text>
        <Text> 2. start this dashboard with: livestream plans --connect http://127.0.0.1:8080</Text>
      </Box>
    );
  }
  const status =
    builds.status === 'connected'
      ? { text: 'connected', color: 'green' }
      : builds.status === 'connecting'
        ? { text: 'connecting…', color: 'yellow' }
        : {
            text: `disconnected${builds.error ? `: ${builds.error}` : ''} (retrying)`,
            color: 'red',
          };
  const [from, to] = windowAround(cursor, builds.sessions.length, Math.max(1, height - 3));
  // One machine needs no column: it is every row's.
  const machines = new Set(builds.sessions.map((s) => s.host ?? '-'));
  const machineWidth = machines.size > 1 ? MACHINE_WIDTH + 1 : 0;
  const detailWidth = Math.max(10, width - 24 - 22 - 8 - 14 - machineWidth);
  const machine = (name: string) =>
    machineWidth === 0 ? '' : `${fit(name, MACHINE_WIDTH).padEnd(MACHINE_WIDTH)} `;
  return (
    <Box flexDirection="column">
      <Text wrap="truncate">
        <Text bold>Builds</Text> from {builds.url} <Text color={status.color}>{status.text}</Text>
      </Text>
      <Text bold wrap="truncate">
        {'Session'.padEnd(24)} {machine('Machine')}
        {'Phase'.padEnd(22)} {'Step'.padEnd(8)} {'Status'.padEnd(13)} Detail
      </Text>
      {builds.sessions.length === 0 ? <Text color="gray">No build sessions yet.</Text> : null}
      {builds.sessions.slice(from, to).map((s, i) => (
        <Text key={s.id} inverse={from + i === cursor} wrap="truncate">
          {fit(s.id, 24).padEnd(24)} {machine(s.host ?? '-')}
          {fit(s.currentPhase, 22).padEnd(22)} {(s.phaseNumber.raw ?? '?').padEnd(8)}{' '}
          <Text color={STATE_COLOR[s.state]}>{fit(s.status, 13).padEnd(13)}</Text>{' '}
          {fit(s.progressDetail ?? '', detailWidth)}
        </Text>
      ))}
      <AgentRows agents={builds.agents ?? []} rows={Math.max(0, height - 4 - (to - from))} />
    </Box>
  );
});

const AGENT_COLOR = {
  working: 'yellow',
  waiting: 'magenta',
  idle: 'green',
  ended: 'gray',
} as const;

/** Coding-agent sessions under the builds: state, project, tokens beside cost. */
function AgentRows({ agents, rows }: { agents: AgentSummary[]; rows: number }) {
  if (agents.length === 0 || rows < 2) return null;
  return (
    <>
      <Text bold wrap="truncate">
        {'Agent'.padEnd(10)} {'Kind'.padEnd(7)} {'Project'.padEnd(20)} {'State'.padEnd(18)}{' '}
        {'Tokens'.padEnd(8)} Cost
      </Text>
      {agents.slice(0, rows - 1).map((a) => (
        <Text key={a.id} wrap="truncate">
          {a.id.slice(0, 8).padEnd(10)} {a.kind.padEnd(7)} {fit(a.project || '-', 20).padEnd(20)}{' '}
          <Text color={AGENT_COLOR[a.state]}>
            {fit(a.waitingFor ? `waiting: ${a.waitingFor.reason}` : a.state, 18).padEnd(18)}
          </Text>{' '}
          {compact(totalTokens(a.usage)).padEnd(8)} ${a.costUsd.toFixed(2)}
        </Text>
      ))}
    </>
  );
}

function compact(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${Math.round(n / 1e3)}k`;
  return String(n);
}
