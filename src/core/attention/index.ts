export type { AgentFacts, SessionFacts, TestFact, TokenFact } from './facts.ts';
export { formatCount, formatSpan, formatUsd } from './format.ts';
export type { SessionInputs } from './gather.ts';
export { gatherFacts } from './gather.ts';
export type { Evaluation, Finding } from './rules.ts';
export { agentFindings, alertId, evaluate, progressMark, spendSince } from './rules.ts';
export type { AttentionThresholds, ThresholdOverrides } from './thresholds.ts';
export {
  attentionConfigSchema,
  DEFAULT_THRESHOLDS,
  mergeThresholds,
  parseAttentionConfig,
  thresholdsSchema,
} from './thresholds.ts';
