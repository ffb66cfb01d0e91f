/** What every backend's store shares: the records, the read interface, the target, the run rules. */
export * from './types';
