import type { AlertKind, AlertSeverity } from '../../shared/attention.ts';
import type { SessionFacts, TestFact } from './facts.ts';
import { formatCount, formatSpan, formatUsd } from './format.ts';
import type { AttentionThresholds } from './thresholds.ts';

/** A condition that holds now. */
export interface Finding {
  kind: AlertKind;
  severity: AlertSeverity;
  reason: string;
  /** When the condition started to hold. */
  since: number;
  /** Identifies the episode: the same condition seen again is the same alert. */
  episode: string;
}

export interface Evaluation {
  findings: Finding[];
  /**
   * The next moment a time-based rule could start to hold with no new input;
   * null when none can. The engine evaluates again then, not on a fixed tick.
   */
  wakeAt: number | null;
}

const HEALING = /heal|fix/i;

/** What was spent since `mark`: tokens from the readings, cost pro rata when the session carries one. */
export function spendSince(
  facts: Pick<SessionFacts, 'tokens' | 'costUsd'>,
  mark: number,
): { tokens: number; usd: number | null } {
  const last = facts.tokens.at(-1);
  if (!last) return { tokens: 0, usd: null };
  let before = 0;
  for (const t of facts.tokens) {
    if (t.at > mark) break;
    before = t.total;
  }
  const tokens = Math.max(0, last.total - before);
  const usd =
    facts.costUsd !== null && last.total > 0 ? (facts.costUsd * tokens) / last.total : null;
  return { tokens, usd };
}

function spendText(spend: { tokens: number; usd: number | null }): string {
  const usd = spend.usd === null ? '' : ` (${formatUsd(spend.usd)})`;
  return `${formatCount(spend.tokens)} tokens${usd}`;
}

/** The tests' last change: when the newest iteration was written; null without tests. */
function lastTestChange(tests: readonly TestFact[]): { at: number; iteration: number } | null {
  let best: TestFact | null = null;
  for (const t of tests) if (!best || t.updatedAt > best.updatedAt) best = t;
  return best ? { at: best.updatedAt, iteration: best.iteration } : null;
}

/** The last progress: the later of the phase start and the last test change, and how to name it. */
export function progressMark(facts: SessionFacts): { at: number; label: string } {
  const test = lastTestChange(facts.tests);
  if (test && test.at > facts.phaseStartedAt) {
    return { at: test.at, label: `test iteration ${test.iteration}` };
  }
  return {
    at: facts.phaseStartedAt,
    label: facts.previousPhase ?? `${facts.phase} started`,
  };
}

/** The failing iterations at the end of the test history, oldest first. */
function failingRun(tests: readonly TestFact[]): TestFact[] {
  const sorted = [...tests].sort((a, b) => a.iteration - b.iteration);
  const run: TestFact[] = [];
  for (let i = sorted.length - 1; i >= 0; i--) {
    const t = sorted[i] as TestFact;
    if ((t.failed ?? 0) <= 0) break;
    run.unshift(t);
  }
  return run;
}

function finished(facts: SessionFacts, th: AttentionThresholds): Finding[] {
  if (facts.state === 'failed') {
    return [
      {
        kind: 'failed',
        severity: 'critical',
        reason: `Failed in ${facts.phase} (${facts.status})`,
        since: facts.changedAt,
        episode: String(facts.runStartedAt),
      },
    ];
  }
  if (facts.state === 'completed' && th.notifyCompleted) {
    return [
      {
        kind: 'completed',
        severity: 'info',
        reason: `Completed after ${formatSpan(facts.changedAt - facts.runStartedAt)}`,
        since: facts.changedAt,
        episode: String(facts.runStartedAt),
      },
    ];
  }
  return [];
}

/**
 * Applies every rule to one session at `now`. Pure: the same facts, thresholds
 * and `now` give the same findings. Reasons never contain a time elapsed up
 * to `now` (clients compute it from `since`), so a held alert does not change
 * on every evaluation.
 */
export function evaluate(facts: SessionFacts, th: AttentionThresholds, now: number): Evaluation {
  if (facts.state !== 'active') return { findings: finished(facts, th), wakeAt: null };
  const findings: Finding[] = [];
  const wakes: number[] = [];
  const mark = progressMark(facts);
  const spend = spendSince(facts, mark.at);

  const goneAt = facts.lastActivityAt + th.producerGoneMs;
  const gone = now >= goneAt;
  if (gone) {
    findings.push({
      kind: 'producer_gone',
      severity: 'critical',
      reason: `Nothing written for over ${formatSpan(th.producerGoneMs)} while ${facts.phase} is running: the build process may have stopped`,
      since: facts.lastActivityAt,
      episode: String(facts.lastActivityAt),
    });
  } else {
    wakes.push(goneAt);
  }

  const limit =
    facts.usualPhaseMs === null
      ? th.stallDefaultMs
      : Math.max(th.stallMinMs, facts.usualPhaseMs * th.stallFactor);
  const stallAt = mark.at + limit;
  if (now >= stallAt && !gone) {
    const usual =
      facts.usualPhaseMs === null
        ? `no past session went through this phase (limit ${formatSpan(limit)})`
        : `it usually takes ${formatSpan(facts.usualPhaseMs)}`;
    findings.push({
      kind: 'stalled',
      severity: 'warning',
      reason: `No progress in ${facts.phase} for over ${formatSpan(limit)}; ${usual}`,
      since: mark.at,
      episode: `${facts.phase}@${mark.at}`,
    });
  } else if (now < stallAt) {
    wakes.push(stallAt);
  }

  const run = failingRun(facts.tests);
  const first = run[0];
  const latest = run.at(-1);
  if (first && latest && run.length >= th.testLoopIterations) {
    const phaseSpend = spendSince(facts, facts.phaseStartedAt);
    const since = facts.previousPhase ?? `${facts.phase} started`;
    const figures =
      latest.total === null ? `${latest.failed}` : `${latest.failed} of ${latest.total}`;
    findings.push({
      kind: 'test_loop',
      severity: 'warning',
      reason: `Tests failing ${run.length} iterations in a row (${figures} failing now), ${spendText(phaseSpend)} spent since ${since}`,
      since: first.updatedAt,
      episode: String(first.iteration),
    });
  }

  const healing = facts.statuses.filter((s) => HEALING.test(s.status));
  const firstHealing = healing[0];
  if (firstHealing && healing.length >= th.healingCycles) {
    findings.push({
      kind: 'healing_loop',
      severity: 'warning',
      reason: `Self-healing ${healing.length} times in ${facts.phase} without moving on`,
      since: firstHealing.at,
      episode: `${facts.phase}@${firstHealing.at}`,
    });
  }

  const overTokens = spend.tokens >= th.spendTokens;
  const overUsd = spend.usd !== null && spend.usd >= th.spendUsd;
  if (overTokens || overUsd) {
    findings.push({
      kind: 'runaway_spend',
      severity: 'warning',
      reason: `${spendText(spend)} spent since ${mark.label} without a phase or test change`,
      since: mark.at,
      episode: String(mark.at),
    });
  }

  findings.push(...agentFindings(facts, th));
  const wakeAt = wakes.length > 0 ? Math.min(...wakes) : null;
  return { findings, wakeAt };
}

/** Waiting for the user and tool loops (agent sessions). */
export function agentFindings(
  facts: Pick<SessionFacts, 'agent'>,
  th: Pick<AttentionThresholds, 'toolRepeats'>,
): Finding[] {
  const agent = facts.agent;
  if (!agent) return [];
  const out: Finding[] = [];
  if (agent.waiting) {
    const what = agent.waiting.kind === 'permission' ? 'a permission prompt' : 'an answer';
    const detail = agent.waiting.detail ? `: ${agent.waiting.detail}` : '';
    out.push({
      kind: 'waiting_for_user',
      severity: 'critical',
      reason: `Waiting for ${what}${detail}`,
      since: agent.waiting.since,
      episode: String(agent.waiting.since),
    });
  }
  const calls = agent.toolCalls;
  const last = calls.at(-1);
  if (last) {
    let i = calls.length - 1;
    while (i > 0) {
      const prev = calls[i - 1];
      if (!prev || prev.tool !== last.tool || prev.input !== last.input) break;
      i--;
    }
    const repeats = calls.length - i;
    const first = calls[i];
    if (first && repeats >= th.toolRepeats) {
      out.push({
        kind: 'tool_loop',
        severity: 'warning',
        reason: `The same ${last.tool} call ${repeats} times in a row`,
        since: first.at,
        episode: String(first.at),
      });
    }
  }
  return out;
}

/** The alert id of a finding: stable per session, kind and episode. */
export function alertId(sessionId: string, finding: Pick<Finding, 'kind' | 'episode'>): string {
  return `${sessionId}|${finding.kind}|${finding.episode}`;
}
