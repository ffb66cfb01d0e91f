import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { unlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { fromSqliteError } from './errors';
import type { RunRecord } from '../store/types';
import { STALE_MS } from '../store/run-rules';

/**
 * Who owns a running run, in a way that holds across PID namespaces (a
 * container's node is PID 1 again after a restart) and reboots, where a PID
 * says nothing. The process that starts or resumes a run draws a token,
 * writes it into the run's row, and holds an OS lock on a file named after it
 * (`<db>-run-<token>.lock`, a SQLite file locked with `BEGIN EXCLUSIVE`)
 * for as long as it runs. The kernel drops the lock when the process dies
 * (kill -9 too), in whatever namespace it ran. It also refreshes the row's
 * heartbeat every `HEARTBEAT_MS` (run-rules.ts).
 *
 * A `running` run's owner is alive when its lock is held. On the machine that
 * ran it (same host name), a lock file that can be locked means the owner
 * has stopped. Otherwise (another machine, a run from before schema v4, a
 * lock file that is gone) it is alive while its heartbeat is younger than
 * `STALE_MS`.
 */


export function runLockPath(dbPath: string, token: string): string {
  return `${dbPath}-run-${token}.lock`;
}

/** This process's claim on a run: its token and the lock held while it runs. */
export class RunClaim {
  readonly token = randomUUID();
  readonly #path: string | undefined;
  #lock: Database.Database | undefined;

  /** Draws a token and takes its lock (none for an in-memory database). */
  constructor(dbPath: string) {
    if (dbPath === ':memory:' || dbPath === '') return;
    this.#path = runLockPath(dbPath, this.token);
    try {
      const lock = new Database(this.#path, { timeout: 0 });
      try {
        // An in-memory journal: BEGIN EXCLUSIVE on a file journal created `<lock>-journal`, left behind by every kill -9.
        lock.pragma('journal_mode = MEMORY');
        lock.exec('BEGIN EXCLUSIVE'); // held until release()
      } catch (err) {
        lock.close();
        throw err;
      }
      this.#lock = lock;
    } catch (err) {
      removeFile(this.#path);
      throw fromSqliteError(err, `Cannot create the run's lock file ${this.#path}`);
    }
  }

  /**
   * Drops the lock. `removeFile`: also delete the lock file, once the run's
   * row no longer says `running`; a run left `running` keeps it, so a resume
   * on this machine sees at once that its owner has stopped.
   */
  release(removeLockFile: boolean): void {
    this.#lock?.close();
    this.#lock = undefined;
    if (removeLockFile && this.#path !== undefined) removeFile(this.#path);
  }
}

/** Whether a `running` run's owner is alive, and why it is judged so (for messages). */
export interface OwnerState {
  alive: boolean;
  why: string;
}

export function runOwnerState(r: RunRecord, dbPath: string | undefined, now = Date.now()): OwnerState {
  const who = `its owner (pid ${r.ownerPid ?? '?'} on ${r.ownerHost ?? '?'})`;
  if (r.status !== 'running') return { alive: false, why: `it is ${r.status}` };
  if (r.ownerToken !== null && dbPath !== undefined) {
    const lock = probeLock(runLockPath(dbPath, r.ownerToken));
    if (lock === 'held') return { alive: true, why: `${who} holds the run's lock` };
    if (lock === 'free' && r.ownerHost === hostname()) return { alive: false, why: `${who} has released the run's lock: it has stopped` };
  }
  const age = r.heartbeatAt === null ? Number.POSITIVE_INFINITY : now - Date.parse(r.heartbeatAt);
  if (age <= STALE_MS) {
    return { alive: true, why: `${who} sent a heartbeat ${Math.max(0, Math.round(age / 1000))} s ago (a run counts as running until ${STALE_MS / 1000} s without one)` };
  }
  return { alive: false, why: `${who} sent no heartbeat for ${Number.isFinite(age) ? `${Math.round(age / 1000)} s` : 'ever'}` };
}

/**
 * A run still `running` whose owner is gone (see {@link runOwnerState}):
 * resume it with `ingest --resume`. Without `dbPath` only the heartbeat can tell.
 */
export function isStale(r: RunRecord, dbPath?: string, now = Date.now()): boolean {
  return r.status === 'running' && !runOwnerState(r, dbPath, now).alive;
}

/** Removes the lock file of a previous owner once this process has taken the run over. */
export function removeStaleLock(dbPath: string, token: string | null): void {
  if (token !== null) removeFile(runLockPath(dbPath, token));
}

function probeLock(path: string): 'held' | 'free' | 'unknown' {
  let db: Database.Database;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true, timeout: 0 });
  } catch {
    return 'unknown';
  }
  try {
    db.prepare('SELECT count(*) FROM sqlite_master').get(); // needs a shared lock: refused while the owner holds its exclusive one
    return 'free';
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' && code.startsWith('SQLITE_BUSY') ? 'held' : 'unknown';
  } finally {
    db.close();
  }
}

/** Removes a lock file and the journal an older version left beside it. */
function removeFile(path: string): void {
  for (const f of [path, `${path}-journal`]) {
    try {
      unlinkSync(f);
    } catch {
      // already gone
    }
  }
}
