/**
 * SQLite's errors (better-sqlite3 `SqliteError`, codes `SQLITE_*`) mapped to
 * the project's codes: the SQLite twin of `fromPgError` in `src/pg/connect.ts`.
 */
import { BrandOrchestratorError, BusyError, StoreError, toError } from '../errors';
import { tempDirNote, tempDirProblem } from './temp-dir';

/** A SQLite error saying another connection holds a lock (`SQLITE_BUSY*`, `SQLITE_LOCKED*`): worth waiting out. @internal */
export function isBusyError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

/** Maps a SQLite error (better-sqlite3 `SqliteError`) to our codes. @internal */
export function fromSqliteError(err: unknown, context: string): BrandOrchestratorError {
  const e = toError(err);
  const sqliteCode = (e as { code?: unknown }).code;
  if (typeof sqliteCode === 'string') {
    if (isBusyError(e)) {
      return new BusyError(`${context}: the database is locked by another connection (${sqliteCode})`, { cause: e });
    }
    if (sqliteCode === 'SQLITE_FULL') {
      // SQLite does not say which file hit the limit: its temp folder may be the full one.
      return new StoreError('ERR_DB_FULL', `${context}: the database or disk is full (${sqliteCode}); ${tempDirNote()}`, { cause: e });
    }
    if (sqliteCode === 'SQLITE_IOERR_GETTEMPPATH') {
      return new StoreError('ERR_TEMP_DIR', `${context}: ${tempDirProblem() ?? 'SQLite found no folder for its temporary files'}`, { cause: e });
    }
    // An overwritten header reads as "not a database": damage, like a malformed page.
    if (sqliteCode.startsWith('SQLITE_CORRUPT') || sqliteCode === 'SQLITE_NOTADB') {
      return new StoreError('ERR_DB_CORRUPT', `${context}: ${e.message} (${sqliteCode})`, { cause: e });
    }
    if (sqliteCode.startsWith('SQLITE_')) {
      return new StoreError('ERR_DB', `${context}: ${e.message} (${sqliteCode})`, { cause: e });
    }
  }
  if (e instanceof BrandOrchestratorError) return e;
  return new StoreError('ERR_DB', `${context}: ${e.message}`, { cause: e });
}

