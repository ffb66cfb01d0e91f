// PLACEHOLDER (#18): replaced by the real PostgreSQL store when the pg branch is merged.
import { StoreError } from '../errors';
import type { ReadStore } from '../store/read-store';

export class PgStore {
  static openForRead(_target: { url: string; label: string }): Promise<ReadStore> {
    throw new StoreError('ERR_DB', 'PostgreSQL is not built yet');
  }
}
