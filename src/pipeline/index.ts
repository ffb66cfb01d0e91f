export type { PipelineFailure } from './scheduler';
export { DEFAULT_CHUNK_SIZE } from './options';
export type { PipelineInput, ProgressEvent, RunPipelineOptions, RunSummary } from './types';
