import type Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { InvalidOptionError, StoreError } from '../errors';
import { LATEST, unknownRun } from '../store/run-rules';
import { RUN_STATUSES, type LineCounts, type RunRecord, type RunStatus, type StartRunInput } from '../store/types';

interface RunRow {
  run_id: string; run_type: string; started_at: string; finished_at: string | null; status: RunStatus;
  settings_snapshot_json: string; notes: string | null; lines_read: number; blank_lines: number;
  inserted: number; updated: number; unchanged: number; rejected: number; chunks: number;
  heartbeat_at: string | null; owner_pid: number | null; owner_host: string | null; owner_token: string | null;
  interrupted_ms: number;
}

/** Statements of the `runs` table, prepared once per connection. */
export class RunsRepo {
  readonly #insert: Database.Statement;
  readonly #finish: Database.Statement;
  readonly #get: Database.Statement;
  readonly #list: Database.Statement;
  readonly #listByStatus: Database.Statement;
  readonly #heartbeat: Database.Statement;
  readonly #reopen: Database.Statement;
  readonly #latest: Database.Statement;
  readonly #byPrefix: Database.Statement;
  /** Runs this connection started or reopened, and the token each was claimed with. */
  readonly #claims = new Map<string, string>();

  constructor(db: Database.Database) {
    this.#insert = db.prepare(
      `INSERT INTO runs (run_id, run_type, started_at, status, settings_snapshot_json, heartbeat_at, owner_pid, owner_host, owner_token)
       VALUES (?, ?, ?, 'running', ?, ?, ?, ?, ?)`,
    );
    this.#finish = db.prepare(
      `UPDATE runs SET status = @status, finished_at = @finishedAt, notes = coalesce(@notes, notes),
         lines_read = coalesce(@linesRead, lines_read), blank_lines = coalesce(@blankLines, blank_lines),
         inserted = coalesce(@inserted, inserted), updated = coalesce(@updated, updated),
         unchanged = coalesce(@unchanged, unchanged), rejected = coalesce(@rejected, rejected),
         chunks = coalesce(@chunks, chunks)
       WHERE run_id = @runId AND (@token IS NULL OR owner_token = @token)`,
    );
    this.#get = db.prepare('SELECT * FROM runs WHERE run_id = ?');
    this.#list = db.prepare('SELECT * FROM runs ORDER BY started_at DESC, rowid DESC LIMIT ?');
    this.#listByStatus = db.prepare('SELECT * FROM runs WHERE status = ? ORDER BY started_at DESC, rowid DESC LIMIT ?');
    // The gap since the run's last sign of life (the later of its heartbeat
    // and its end; both are old values in an UPDATE's expressions) is added
    // in the statement that takes the run over and refreshes its heartbeat,
    // so a second resume right after adds only the moments in between.
    this.#reopen = db.prepare(
      `UPDATE runs SET status = 'running', finished_at = NULL, heartbeat_at = @now, owner_pid = @pid, owner_host = @host, owner_token = @token,
         interrupted_ms = interrupted_ms + max(0, CAST(round(
           (julianday(@now) - julianday(coalesce(max(heartbeat_at, finished_at), heartbeat_at, finished_at, @now))) * 86400000) AS INTEGER))
       WHERE run_id = @runId`,
    );
    this.#heartbeat = db.prepare(
      `UPDATE runs SET heartbeat_at = @now, owner_pid = @pid, owner_host = @host
       WHERE run_id = @runId AND (@token IS NULL OR owner_token = @token)`,
    );
    this.#latest = db.prepare('SELECT * FROM runs ORDER BY started_at DESC, rowid DESC LIMIT 1');
    // instr() = 1: a prefix match that needs no escaping of LIKE wildcards (the runs table is small).
    this.#byPrefix = db.prepare('SELECT run_id FROM runs WHERE instr(run_id, ?) = 1 ORDER BY started_at DESC, rowid DESC LIMIT ?').pluck();
  }

  start(input: StartRunInput): RunRecord {
    const runId = input.runId ?? randomUUID();
    if (typeof runId !== 'string' || runId.length === 0 || runId.length > 200) {
      throw new InvalidOptionError(`Expected \`runId\` to be a string of 1 to 200 characters, got ${JSON.stringify(runId)}`);
    }
    if (typeof input.runType !== 'string' || input.runType.length === 0) {
      throw new InvalidOptionError(`Expected \`runType\` to be a non-empty string, got ${JSON.stringify(input.runType)}`);
    }
    if (this.#get.get(runId) !== undefined) {
      throw new StoreError('ERR_RUN_EXISTS', `A run with id ${JSON.stringify(runId)} already exists; choose another id or resume it`);
    }
    const now = new Date().toISOString();
    this.#insert.run(runId, input.runType, now, JSON.stringify(input.settings ?? {}), now, process.pid, hostname(), input.ownerToken ?? null);
    if (input.ownerToken !== undefined) this.#claims.set(runId, input.ownerToken);
    return this.get(runId);
  }

  finish(runId: string, status: RunStatus, notes?: string | null, counts?: Partial<LineCounts> & { chunks?: number }): RunRecord {
    if (!RUN_STATUSES.includes(status) || status === 'running') {
      throw new InvalidOptionError(`Expected \`status\` to be 'completed', 'failed' or 'cancelled', got ${JSON.stringify(status)}`);
    }
    const info = this.#finish.run({
      runId, status, finishedAt: new Date().toISOString(), notes: notes ?? null,
      linesRead: counts?.linesRead ?? null, blankLines: counts?.blankLines ?? null, inserted: counts?.inserted ?? null,
      updated: counts?.updated ?? null, unchanged: counts?.unchanged ?? null, rejected: counts?.rejected ?? null,
      chunks: counts?.chunks ?? null, token: this.#claims.get(runId) ?? null,
    });
    if (info.changes === 0) throw this.#lost(runId);
    this.#claims.delete(runId);
    return this.get(runId);
  }

  /**
   * Puts an unfinished run back to `running` under this process and
   * `ownerToken` (resume), adding the time since its last sign of life to
   * its `interruptedMs`.
   */
  reopen(runId: string, ownerToken?: string): RunRecord {
    const info = this.#reopen.run({ now: new Date().toISOString(), pid: process.pid, host: hostname(), token: ownerToken ?? null, runId });
    if (info.changes === 0) throw unknownRun(runId);
    if (ownerToken !== undefined) this.#claims.set(runId, ownerToken);
    return this.get(runId);
  }

  /**
   * Marks a run as alive (and owned by this process), so a dead owner is
   * detectable. Throws `ERR_RUN_TAKEN_OVER` once another process has taken
   * the run over (its row holds another token).
   */
  heartbeat(runId: string): void {
    const info = this.#heartbeat.run({
      now: new Date().toISOString(), pid: process.pid, host: hostname(), runId, token: this.#claims.get(runId) ?? null,
    });
    if (info.changes === 0) throw this.#lost(runId);
  }

  /** Why a write to a run's row changed nothing: no such run, or it was taken over. */
  #lost(runId: string): StoreError {
    const row = this.#get.get(runId) as RunRow | undefined;
    if (row === undefined) return unknownRun(runId);
    return new StoreError('ERR_RUN_TAKEN_OVER',
      `Run ${runId} was taken over by another process (pid ${row.owner_pid ?? '?'} on ${row.owner_host ?? '?'}); this process no longer owns it and stops`);
  }

  /** Throws `ERR_RUN_NOT_FOUND` for an unknown id. */
  get(runId: string): RunRecord {
    const row = this.#get.get(runId) as RunRow | undefined;
    if (row === undefined) throw unknownRun(runId);
    return toRecord(row);
  }

  find(runId: string): RunRecord | undefined {
    const row = this.#get.get(runId) as RunRow | undefined;
    return row === undefined ? undefined : toRecord(row);
  }

  /**
   * The run `ref` names: an exact run id; else `latest` (the most recently
   * started run); else the one run whose id starts with `ref`. Throws
   * `ERR_RUN_NOT_FOUND`, or `ERR_RUN_AMBIGUOUS` when several ids share the prefix.
   */
  resolve(ref: string): RunRecord {
    const exact = this.find(ref);
    if (exact !== undefined) return exact;
    if (ref === LATEST) {
      const row = this.#latest.get() as RunRow | undefined;
      if (row === undefined) throw new StoreError('ERR_RUN_NOT_FOUND', 'There is no run yet, so no `latest` one');
      return toRecord(row);
    }
    if (ref === '') throw unknownRun(ref);
    const ids = this.#byPrefix.all(ref, AMBIGUOUS_SHOWN + 1) as string[];
    if (ids.length === 0) throw unknownRun(ref);
    if (ids.length > 1) {
      const shown = ids.slice(0, AMBIGUOUS_SHOWN).map((id) => JSON.stringify(id)).join(', ');
      throw new StoreError('ERR_RUN_AMBIGUOUS', `Run id prefix ${JSON.stringify(ref)} matches several runs (${shown}${ids.length > AMBIGUOUS_SHOWN ? ', ...' : ''}); give more of the id`);
    }
    return this.get(ids[0] as string);
  }

  list(options: { limit?: number; status?: RunStatus } = {}): RunRecord[] {
    const limit = options.limit ?? 50;
    if (!Number.isInteger(limit) || limit < 1) throw new InvalidOptionError(`Expected \`limit\` to be a positive integer, got ${String(limit)}`);
    const rows = (options.status === undefined ? this.#list.all(limit) : this.#listByStatus.all(options.status, limit)) as RunRow[];
    return rows.map(toRecord);
  }
}

const AMBIGUOUS_SHOWN = 5;

function toRecord(r: RunRow): RunRecord {
  return {
    runId: r.run_id, runType: r.run_type, startedAt: r.started_at, finishedAt: r.finished_at, status: r.status,
    settings: JSON.parse(r.settings_snapshot_json) as Record<string, unknown>, notes: r.notes,
    linesRead: r.lines_read, blankLines: r.blank_lines, inserted: r.inserted, updated: r.updated,
    unchanged: r.unchanged, rejected: r.rejected, chunks: r.chunks,
    heartbeatAt: r.heartbeat_at, ownerPid: r.owner_pid, ownerHost: r.owner_host, ownerToken: r.owner_token,
    interruptedMs: r.interrupted_ms,
  };
}
