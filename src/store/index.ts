export { StateStore } from './state-store';
export type { StartRunInput } from './runs';
export { SCHEMA_VERSION } from './schema';
export * from './types';
