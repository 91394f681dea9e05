import { type AgentSummary, type TokenUsage, totalTokens } from '../../../src/shared/agents.ts';

/** "$0.0042", "$1.27", "$312": cents matter for one session, not for hundreds of dollars. */
export function formatUsd(usd: number): string {
  if (usd === 0) return '$0';
  if (usd < 0.01) return `$${usd.toFixed(4)}`;
  if (usd < 100) return `$${usd.toFixed(2)}`;
  return `$${Math.round(usd)}`;
}

/** "950", "12.3k", "4.1M". */
export function formatTokens(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return String(n);
}

export function usageTitle(u: TokenUsage): string {
  return `input ${u.input}, output ${u.output}, cache read ${u.cacheRead}, cache write 5m ${u.cacheWrite5m}, 1h ${u.cacheWrite1h}`;
}

export function tokensOf(a: { usage: TokenUsage }): string {
  return formatTokens(totalTokens(a.usage));
}

/** What a row says about the agent's state, waiting first. */
export function stateText(a: AgentSummary): string {
  if (a.state === 'waiting' && a.waitingFor) return `waiting for ${a.waitingFor.reason}`;
  return a.state;
}

export function agentHref(id: string): string {
  return `#/agent/${encodeURIComponent(id)}`;
}
