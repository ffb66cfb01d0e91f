import Database from 'better-sqlite3';
import { accessSync, constants, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { BrandOrchestratorError, InvalidOptionError, StoreError } from '../errors';
import { fromSqliteError } from './errors';
import { openProblem } from './open-problem';
import { MIGRATIONS, SCHEMA_VERSION } from './schema';
import { tempDirProblem } from './temp-dir';
import type { StoreOptions, Synchronous } from '../store/types';

export interface ResolvedStoreOptions {
  readonly busyTimeoutMs: number;
  readonly synchronous: Synchronous;
  readonly readonly: boolean;
}

/**
 * Pages the WAL may hold before a commit also checkpoints it (~400 MB of WAL
 * at 4 KiB pages, truncated when a run ends). Each checkpoint copies every
 * page the commits since the last one dirtied; on a growing database the
 * index pages are dirtied again chunk after chunk, so fewer, larger
 * checkpoints copy much less: ~15% faster than 10,000 pages into a database
 * of 1M items (docs/performance.md). SQLite's default (1,000) checkpointed
 * after every commit.
 */
export const WAL_AUTOCHECKPOINT_PAGES = 100_000;

const OPTION_KEYS = new Set(['busyTimeoutMs', 'synchronous', 'readonly']);

export function resolveStoreOptions(options: StoreOptions = {}): ResolvedStoreOptions {
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.has(key)) throw new InvalidOptionError(`Unknown store option \`${key}\`; expected one of ${[...OPTION_KEYS].join(', ')}`);
  }
  const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
  if (!Number.isInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
    throw new InvalidOptionError(`Expected \`busyTimeoutMs\` to be an integer >= 0, got ${String(busyTimeoutMs)}`);
  }
  const synchronous = options.synchronous ?? 'NORMAL';
  if (synchronous !== 'NORMAL' && synchronous !== 'FULL') {
    throw new InvalidOptionError(`Expected \`synchronous\` to be 'NORMAL' or 'FULL', got ${JSON.stringify(synchronous)}`);
  }
  return Object.freeze({ busyTimeoutMs, synchronous, readonly: options.readonly ?? false });
}

/** Opens one connection with our pragmas and brings its schema up to date. */
export function openDatabase(path: string, opts: ResolvedStoreOptions): Database.Database {
  if (typeof path !== 'string' || path === '') throw new InvalidOptionError(`Expected a database path, got ${JSON.stringify(path)}`);
  // SQLite may write temp files (large sorts, statement journals): a temp
  // folder that cannot take a file is named now, not blamed on the database
  // halfway through a run.
  const tempProblem = opts.readonly ? undefined : tempDirProblem();
  if (tempProblem !== undefined) throw new StoreError('ERR_TEMP_DIR', tempProblem);
  let db: Database.Database;
  try {
    if (!opts.readonly && path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    // A store that only reads still opens the file read-write where it may (it writes nothing): the last
    // connection to close removes the -wal and -shm files of a WAL database only if it is read-write; a
    // read-only one left them beside the database after every `runs` or `verify`.
    const sqliteReadonly = opts.readonly && !writable(path);
    db = new Database(path, { readonly: sqliteReadonly, fileMustExist: opts.readonly, timeout: opts.busyTimeoutMs });
  } catch (err) {
    throw withOpenProblem(fromSqliteError(err, `Cannot open database ${path}`), path, !opts.readonly);
  }
  try {
    if (!opts.readonly) db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.pragma(`synchronous = ${opts.synchronous}`); // validated above: 'NORMAL' | 'FULL'
    // 16 MiB per connection (negative = KiB). A WAL connection drops its cache
    // whenever another one has written, so with several writers a bigger cache
    // mostly costs memory (64 MiB: the same speed, ~100 MB more peak RSS).
    db.pragma('cache_size = -16384');
    // The stage of the upsert engine (ItemsRepo) is a TEMP table: in memory,
    // one chunk's rows at a time, never a temp file written under the lock.
    db.pragma('temp_store = MEMORY');
    // See WAL_AUTOCHECKPOINT_PAGES; disabling automatic checkpoints (one big
    // checkpoint at the end) measured slower (docs/performance.md).
    if (!opts.readonly) db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
    migrate(db, path, opts.readonly);
    return db;
  } catch (err) {
    db.close();
    throw err instanceof StoreError ? err : withOpenProblem(fromSqliteError(err, `Cannot prepare database ${path}`), path, !opts.readonly);
  }
}

function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    accessSync(dirname(path), constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** `err` with what the file system says about `path` in place of SQLite's words, where it says something. */
function withOpenProblem(err: BrandOrchestratorError, path: string, forWrite: boolean): BrandOrchestratorError {
  if (err.code === 'ERR_DB_CORRUPT' || err.code === 'ERR_DB_BUSY' || path === ':memory:') return err;
  const why = openProblem(path, forWrite);
  return why === undefined ? err : new StoreError('ERR_DB', `Cannot open database ${path}: ${why}`, { cause: err });
}

function migrate(db: Database.Database, path: string, readonly: boolean): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION) {
    throw new StoreError(
      'ERR_SCHEMA_TOO_NEW',
      `Database ${path} has schema version ${version}, newer than this version of brand-orchestrator supports (${SCHEMA_VERSION}); upgrade brand-orchestrator`,
    );
  }
  if (version === SCHEMA_VERSION) return;
  if (readonly) {
    throw new StoreError('ERR_DB', `Database ${path} has schema version ${version}; open it read-write once to upgrade it to ${SCHEMA_VERSION}`);
  }
  // IMMEDIATE: two processes opening an old file at once must not both migrate.
  db.transaction(() => {
    const current = db.pragma('user_version', { simple: true }) as number;
    for (let v = current; v < SCHEMA_VERSION; v++) {
      db.exec(MIGRATIONS[v] as string);
    }
    db.pragma(`user_version = ${SCHEMA_VERSION}`); // an integer constant, not data
  }).immediate();
}
