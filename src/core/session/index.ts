export type { CheckpointFiles } from './checkpoint.ts';
export { checkpointProjectDir, parseCheckpoint } from './checkpoint.ts';
export type { SessionRecord, SessionUpdate, UpdateResult } from './derive.ts';
export {
  applyUpdate,
  CLOCK_SKEW_MS,
  canonical,
  folderName,
  sameContent,
  sessionIdOf,
  withWarnings,
} from './derive.ts';
export type { ParseResult, PhaseDocument } from './document.ts';
export { MAX_SESSION_ID_LENGTH, parsePhaseDocument, parsePhaseJson } from './document.ts';
export type { KeyedSession } from './keys.ts';
export { SessionKeys } from './keys.ts';
export { parsePhaseNumber, progressFromPhase, remainingPhases } from './phase-number.ts';
export { samePhase, stateFromStatus } from './state.ts';
export { buildTimeline, estimateEta } from './timeline.ts';
export { parseLlmTimestamp } from './timestamps.ts';
