export { runPipeline, type PipelineFailure } from './run-pipeline';
export { DEFAULT_CHUNK_SIZE } from './options';
export type { PipelineInput, ProgressEvent, RunPipelineOptions, RunSummary } from './types';
