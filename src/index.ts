/**
 * Public surface of brand-orchestrator. Import from the package root only;
 * everything not re-exported here is internal.
 */
export { runPipeline } from './backend';
export { DEFAULT_CHUNK_SIZE } from './pipeline';
export { StateStore, SCHEMA_VERSION } from './sqlite';
export { loadConfig, asDict, DEFAULT_CONFIG, LOG_LEVELS } from './config';
export {
  parseIntelLine, clamp, applyModifiers, trendScore, decide, TrendScorer, Gate, QualityGate, TrendGate, contentHash,
} from './domain';
export { generateLines, writeFeed } from './gen/generate';
export { renderRunReport } from './report';
export {
  BrandOrchestratorError, InvalidOptionError, StoreError, BusyError, InputError, WorkerError, TooManyRejectsError, CancelledError,
} from './errors';
export { VERSION } from './version';

export type { PipelineFailure, PipelineInput, ProgressEvent, RunPipelineOptions, RunSummary } from './pipeline';
export type {
  ChunkCheckpoint, ChunkMeta, IntelItem, LineCounts, RejectRecord, RunRecord, RunStatus, StartRunInput, StoreOptions, Synchronous, UpsertCounts,
} from './store';
export type { AppConfig, BrandProfile, ConfigDict, ConfigOverrides, LogLevel, ScoreWeights, SourcePolicy, Thresholds } from './config';
export type { Decision, IntelRow, ParseResult, Reject, RejectCode, ScoreBreakdown, Signals } from './domain';
export type { GenerateOptions } from './gen/generate';
export type { RunReportOptions } from './report';
export type { ErrorCode } from './errors';
