export { StateStore } from './state-store';
export { SCHEMA_VERSION } from './schema';
