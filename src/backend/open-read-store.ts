import type { ReadStore } from '../store/read-store';
import { SqliteReadStore } from '../sqlite/sqlite-read-store';
import type { DbTarget } from '../store/target';

/**
 * Opens an existing database for the reading commands, whichever backend
 * holds it; never creates one. The PostgreSQL store is loaded only when a
 * postgres:// target asks for it, so SQLite users never load `pg`.
 */
export async function openReadStore(target: DbTarget): Promise<ReadStore> {
  if (target.kind === 'sqlite') return SqliteReadStore.open(target.path);
  // `.js`: under module nodenext a CommonJS file keeps `import()` native, and Node's ESM resolver wants the extension.
  const { PgStore } = await import('../pg/pg-store.js');
  return PgStore.openForRead(target);
}

/** Runs `fn` on the database `target` names, opened for reading, and closes it however `fn` ends. */
export async function withReadStore<T>(target: DbTarget, fn: (store: ReadStore) => Promise<T> | T): Promise<T> {
  const store = await openReadStore(target);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}
