export { StateStore, type ChunkWrite, type StagedRow } from './state-store';
export type { SameLine } from './items';
export type { StartRunInput } from './runs';
export { SCHEMA_VERSION } from './schema';
export * from './types';
