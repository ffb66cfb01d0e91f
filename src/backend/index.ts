/** Runs and reads on whichever backend a target names. */
export { runPipeline } from './run-pipeline';
export { openReadStore, withReadStore } from './open-read-store';
export type { PipelineFailure } from '../pipeline/types';
