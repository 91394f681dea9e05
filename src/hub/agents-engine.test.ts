import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_PRICES } from '../core/agents/prices.ts';
import type { AgentSummary } from '../shared/agents.ts';
import { topic } from '../shared/topics.ts';
import { AgentsEngine } from './agents-engine.ts';
import { MemoryHub } from './hub.ts';

test("agent sessions carry their machine: the local one, or the forwarder's from its /@host/ folder", () => {
  const hub = new MemoryHub();
  const engine = new AgentsEngine({ hub, prices: DEFAULT_PRICES, host: 'laptop' });
  const meta = (sessionId: string, cwd: string) =>
    engine.apply({
      type: 'meta',
      agent: 'claude',
      sessionId,
      agentId: null,
      at: 1,
      source: 'transcript',
      cwd,
    });
  meta('local-1', '/home/me/shop');
  meta('remote-1', '/@ci-1/home/dev/shop');
  engine.flush();
  const hosts = Object.fromEntries(engine.list().map((a) => [a.id, a.host]));
  assert.deepEqual(hosts, { 'local-1': 'laptop', 'remote-1': 'ci-1' });
  const published = hub.get(topic('agents'))?.data as { agents: Record<string, AgentSummary> };
  assert.equal(published.agents['remote-1']?.host, 'ci-1');
  hub.close();
});
