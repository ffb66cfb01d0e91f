export type { PipelineFailure } from './types';
export { DEFAULT_CHUNK_SIZE } from './options';
export type { PipelineInput, ProgressEvent, RunPipelineOptions, RunSummary } from './types';
