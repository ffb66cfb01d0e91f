/**
 * The Brand Orchestrator's state in a PostgreSQL database: run bookkeeping,
 * the chunk plan of shared runs, and the reads every command needs
 * (`ReadStore`). One store is one connection. Item writes happen in the
 * workers (`PgChunkBackend`), each on its own connection.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type pg from 'pg';
import { InvalidOptionError, StoreError } from '../errors';
import { toItem, type ItemRow } from '../store/item-row';
import type { ChunkGroup, ReadStore, RejectBin, ScoreBin } from '../store/read-store';
import { HEARTBEAT_MS, LATEST, STALE_MS, unknownRun } from '../store/run-rules';
import { RUN_STATUSES, type ChunkCheckpoint, type IntelItem, type LineCounts, type LinePosition, type RejectRecord, type RunRecord, type RunStatus } from '../store/types';
import { connect, describeServer, fromPgError, isConnectionLost } from './connect';
import { migrate, PG_SCHEMA_VERSION, schemaVersion } from './schema';
import type { Outage } from '../pipeline/outage';
import { isTransient } from './outage';

export interface PgTarget {
  readonly url: string;
  readonly label: string;
}

/** How a shared run cuts its input: the same for every process that joins it. */
export interface ChunkPlan {
  inputBytes: number;
  chunkBytes: number;
  chunks: number;
  /** sha1 over the size and the first and last 64 KiB: a joining process must be reading the same feed. */
  fingerprint: string;
}

export interface PgRun {
  run: RunRecord;
  runSeq: number;
  plan: ChunkPlan;
}

const RUN_COLUMNS = `run_id, run_seq::float8 AS run_seq, run_type, started_at, finished_at, status, settings_snapshot_json, notes,
  lines_read::float8 AS lines_read, blank_lines::float8 AS blank_lines, inserted::float8 AS inserted, updated::float8 AS updated,
  unchanged::float8 AS unchanged, rejected::float8 AS rejected, chunks, heartbeat_at, owner_pid, owner_host, owner_token, plan_json,
  interrupted_ms::float8 AS interrupted_ms`;

interface RunRow {
  run_id: string; run_seq: number; run_type: string; started_at: Date; finished_at: Date | null; status: RunStatus;
  settings_snapshot_json: Record<string, unknown>; notes: string | null; lines_read: number; blank_lines: number;
  inserted: number; updated: number; unchanged: number; rejected: number; chunks: number; heartbeat_at: Date | null;
  owner_pid: number | null; owner_host: string | null; owner_token: string | null; plan_json: ChunkPlan | null;
  interrupted_ms: number;
}

/** A running run without a heartbeat for this long has no live process left (see `isStale`). */
const PG_STALE_MS = Math.max(STALE_MS, 3 * HEARTBEAT_MS);

/**
 * Milliseconds since a run's last sign of life, the later of its heartbeat
 * and its end (old values, in an UPDATE); 0 when it has neither.
 */
const SINCE_LAST_SIGN_OF_LIFE = 'greatest(0, round(extract(epoch FROM now() - greatest(heartbeat_at, finished_at)) * 1000))::bigint';

/** Totals over a run's done chunks, whoever committed them: line counts, chunks and their input bytes. */
export type ChunkTotals = LineCounts & { chunks: number; bytes: number };

/** Totals over a run's done chunks. */
const TOTALS = `SELECT count(*)::int AS chunks, coalesce(sum(line_count), 0)::float8 AS "linesRead",
  coalesce(sum(blank_lines), 0)::float8 AS "blankLines", coalesce(sum(inserted), 0)::float8 AS inserted,
  coalesce(sum(updated), 0)::float8 AS updated, coalesce(sum(unchanged), 0)::float8 AS unchanged,
  coalesce(sum(rejected), 0)::float8 AS rejected, coalesce(sum(byte_end - byte_start), 0)::float8 AS bytes
  FROM run_chunks WHERE run_id = $1 AND state = 'done'`;

/**
 * A run's rejects with their line numbers: a chunk's first line is 1 + the
 * lines of the chunks before it, known only when all of those are done (else
 * the line number is 0 and `byte` tells where the chunk starts).
 */
const REJECTS = `WITH c AS (
    SELECT chunk_index, byte_start,
      1 + coalesce(sum(line_count) OVER w, 0) AS first_line,
      coalesce(bool_and(state = 'done') OVER w, true) AS known
    FROM run_chunks WHERE run_id = $1
    WINDOW w AS (ORDER BY chunk_index ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING))
  SELECT r.chunk_index, r.line_in_chunk, (CASE WHEN c.known THEN c.first_line + r.line_in_chunk - 1 ELSE 0 END)::float8 AS line_no, r.code, r.reason, r.excerpt
  FROM run_rejects r JOIN c USING (chunk_index)
  WHERE r.run_id = $1`;

/** The store whose transaction the current async context runs in. */
const inTransaction = new AsyncLocalStorage<PgStore>();

export class PgStore implements ReadStore {
  readonly kind = 'postgres' as const;
  readonly label: string;
  /** The URL as given (with its password): for the workers' own connections, never shown. */
  readonly url: string;
  /** The server and database, as messages name them. */
  readonly where: string;
  #client: pg.Client;
  readonly #target: PgTarget;
  #closed = false;
  #queue: Promise<unknown> = Promise.resolve();

  /** A run's lease: it bounds the sessions this store opens. */
  readonly #leaseMs: number | undefined;
  /** A run's outage policy: how long a lost connection is retried (once, without one). */
  readonly #outage: Outage | undefined;

  private constructor(client: pg.Client, target: PgTarget, run?: { leaseMs: number; outage: Outage }) {
    this.#client = client;
    this.#target = target;
    this.#leaseMs = run?.leaseMs;
    this.#outage = run?.outage;
    this.url = target.url;
    this.label = target.label;
    this.where = describeServer(client);
  }

  /**
   * Connects and brings the schema up to date (creating it in an empty
   * database). For a run, `run.leaseMs` bounds its sessions (see
   * `newClient`) and `run.outage` how long a lost connection is retried.
   */
  static async open(target: PgTarget, run?: { leaseMs: number; outage: Outage }): Promise<PgStore> {
    const client = await connect(target.url, target.label, 'Opening the database', undefined, run?.leaseMs);
    const store = new PgStore(client, target, run);
    try {
      await migrate(client, store.where);
    } catch (err) {
      await store.close();
      throw fromPgError(err, client, 'Preparing the schema');
    }
    return store;
  }

  /** Connects to a database that already holds our schema (the reading commands never create it). */
  static async openForRead(target: PgTarget): Promise<PgStore> {
    const client = await connect(target.url, target.label, 'Opening the database');
    const store = new PgStore(client, target);
    try {
      const v = await schemaVersion(client);
      if (v === 0) throw new StoreError('ERR_DB', `${store.where} holds no brand-orchestrator data yet; ingest a feed into it first`);
      if (v > PG_SCHEMA_VERSION) throw new StoreError('ERR_SCHEMA_TOO_NEW', `${store.where} has schema version ${v}, newer than this version understands (${PG_SCHEMA_VERSION}); upgrade brand-orchestrator`);
      // As a read-only SQLite file: a reading command changes no schema, and its queries name the current columns.
      if (v < PG_SCHEMA_VERSION) throw new StoreError('ERR_DB', `${store.where} has schema version ${v}; ingest into it once to upgrade it to ${PG_SCHEMA_VERSION}`);
    } catch (err) {
      await store.close();
      throw fromPgError(err, client, 'Opening the database');
    }
    return store;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#client.end().catch(() => undefined);
  }

  /**
   * One query, after the queries and transactions asked for before it: a
   * connection runs one statement at a time, and a lease renewal from the
   * timer must not land inside another transaction. A connection lost
   * outside a transaction (a server restart, a terminated backend) is opened
   * again and the query runs once more: every statement here may run twice
   * (claims, renewals and reads are idempotent or harmless to repeat).
   */
  async #q<R extends pg.QueryResultRow>(context: string, text: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
    if (this.#closed) throw new StoreError('ERR_STORE_CLOSED', `The store for ${this.label} is closed; open a new one`);
    if (inTransaction.getStore() === this) return this.#client.query<R>(text, values).catch((err: unknown) => { throw fromPgError(err, this.where, context); });
    return this.#serial(async () => {
      try {
        const out = await this.#client.query<R>(text, values);
        this.#outage?.ok();
        return out;
      } catch (err) {
        if (!isConnectionLost(err)) throw fromPgError(err, this.where, context);
        return this.#again(context, () => this.#client.query<R>(text, values), err);
      }
    });
  }

  /** Runs `fn` once everything asked for before it has settled. */
  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /**
   * After `lost`: connects again and runs `fn` once more, and, for a run,
   * again with back-off while the server stays out of reach (the outage
   * policy), then gives up with the outage's first cause.
   */
  async #again<T>(context: string, fn: () => Promise<T>, lost: unknown): Promise<T> {
    let last = lost;
    for (let tries = 0; ; tries++) {
      // Mapped before the outage sees it: when this is its first cause, the run gives up with the message that names the server.
      const cause = fromPgError(last, this.where, context);
      if (this.#outage === undefined ? tries > 0 : !(await this.#outage.retry(cause))) {
        throw this.#outage?.givenUp(cause) ?? cause;
      }
      try {
        await this.#reconnect(context);
        const out = await fn();
        this.#outage?.ok();
        return out;
      } catch (err) {
        if (!isTransient(err)) throw fromPgError(err, this.where, context);
        last = err;
      }
    }
  }

  async #reconnect(context: string): Promise<void> {
    await this.#client.end().catch(() => undefined);
    this.#client = await connect(this.#target.url, this.#target.label, `${context} (connecting again after the connection was lost)`, undefined, this.#leaseMs);
  }

  /**
   * `fn` in one transaction, its queries (`#q`) on this connection with
   * nothing in between; run once more on a new connection when the
   * connection was lost.
   */
  async #tx<T>(context: string, fn: () => Promise<T>): Promise<T> {
    return this.#serial(() => inTransaction.run(this, async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          await this.#q(context, 'BEGIN');
          const out = await fn();
          await this.#q(context, 'COMMIT');
          return out;
        } catch (err) {
          await this.#client.query('ROLLBACK').catch(() => undefined);
          const lost = isConnectionLost(err) || (err as { code?: unknown }).code === 'ERR_DB_CONNECTION_LOST';
          if (!lost || (this.#outage === undefined && attempt > 1)) throw fromPgError(err, this.where, context);
          // A new connection, with back-off while the server is away; then the whole transaction runs again.
          await this.#again(context, async () => undefined, err);
        }
      }
    }));
  }

  // Runs -------------------------------------------------------------------

  /**
   * Starts a run with its chunk plan (one `pending` row per chunk). With
   * `join`, a run of that id that exists already is joined instead: its plan
   * must be this one (same feed, same chunk size), and a failed or cancelled
   * one is reopened. A completed run is returned as it is (nothing to do).
   */
  async startOrJoin(input: { runId: string; runType: string; settings: Record<string, unknown>; plan: ChunkPlan; join: boolean; resume: boolean; ownerToken: string }): Promise<PgRun> {
    const { runId, plan } = input;
    return this.#tx(`Starting run ${runId}`, async () => {
      // The server's clock, as for its heartbeats and its end: a run's times never mix two machines' clocks.
      const created = input.resume ? { rowCount: 0 } : await this.#q('Starting the run',
        `INSERT INTO runs (run_id, run_type, started_at, status, settings_snapshot_json, heartbeat_at, owner_pid, owner_host, owner_token, plan_json)
         VALUES ($1, $2, now(), 'running', $3, now(), $4, $5, $6, $7) ON CONFLICT (run_id) DO NOTHING`,
        [runId, input.runType, JSON.stringify(input.settings), process.pid, hostname(), input.ownerToken, JSON.stringify(plan)]);
      if (created.rowCount === 1) {
        await this.#q('Planning the chunks', 'INSERT INTO run_chunks (run_id, chunk_index) SELECT $1, g FROM generate_series(0, $2::int - 1) g', [runId, plan.chunks]);
        return { run: await this.getRun(runId), runSeq: (await this.#runSeq(runId)), plan };
      }
      const { rows } = await this.#q<RunRow>('Reading the run', `SELECT ${RUN_COLUMNS} FROM runs WHERE run_id = $1 FOR UPDATE`, [runId]);
      const row = rows[0];
      if (row === undefined) throw unknownRun(runId);
      if (!input.join && !input.resume) {
        throw new StoreError('ERR_RUN_EXISTS', `A run with id ${JSON.stringify(runId)} already exists; choose another id, join it (--join) or resume it`);
      }
      const theirs = row.plan_json;
      if (theirs === null) throw new InvalidOptionError(`Run ${runId} was not started with a chunk plan; it cannot be joined or resumed here`);
      if (theirs.fingerprint !== plan.fingerprint || theirs.inputBytes !== plan.inputBytes) {
        throw new StoreError('ERR_INPUT_CHANGED', `Run ${runId} is ingesting another feed (${theirs.inputBytes} bytes, fingerprint ${theirs.fingerprint.slice(0, 12)}) than this one (${plan.inputBytes} bytes, ${plan.fingerprint.slice(0, 12)}); refusing to mix data`);
      }
      await this.#takeOver(runId, row.status, input.ownerToken);
      return { run: await this.getRun(runId), runSeq: row.run_seq, plan: theirs };
    });
  }

  /**
   * Within `startOrJoin`'s transaction, on the locked row: a failed or
   * cancelled run is reopened; a running one is joined, after a refreshed
   * heartbeat if every process of it had stopped. Either adds the time the
   * run sat interrupted in the statement that takes it over and refreshes its
   * heartbeat, so a process joining right after adds nothing; a live run adds
   * nothing at all.
   */
  async #takeOver(runId: string, status: RunStatus, ownerToken: string): Promise<void> {
    if (status === 'failed' || status === 'cancelled') {
      await this.#q('Reopening the run', `UPDATE runs SET status = 'running', finished_at = NULL, heartbeat_at = now(), owner_pid = $2, owner_host = $3, owner_token = $4,
         interrupted_ms = interrupted_ms + ${SINCE_LAST_SIGN_OF_LIFE} WHERE run_id = $1`,
        [runId, process.pid, hostname(), ownerToken]);
    } else if (status === 'running') {
      await this.#q('Taking over the run', `UPDATE runs SET heartbeat_at = now(), interrupted_ms = interrupted_ms + ${SINCE_LAST_SIGN_OF_LIFE}
         WHERE run_id = $1 AND (heartbeat_at IS NULL OR heartbeat_at < now() - make_interval(secs => $2::float8 / 1000))`, [runId, PG_STALE_MS]);
    }
  }

  async #runSeq(runId: string): Promise<number> {
    const { rows } = await this.#q<{ s: number }>('Reading the run', 'SELECT run_seq::float8 AS s FROM runs WHERE run_id = $1', [runId]);
    return rows[0]?.s as number;
  }

  /**
   * Claims up to `n` chunks for `owner`: pending ones, claimed ones whose
   * lease ran out (their process died), and claimed ones of `owner` itself
   * that it does not hold (`held`: its chunks in flight or set aside): a
   * claim whose reply was lost with its connection (committed on the
   * server, never seen here) is taken up again rather than left claimed for
   * as long as `owner` renews its leases, which held a run up for good. In
   * chunk order. `SKIP LOCKED`: two processes never wait for each other
   * here, nor claim the same chunk. `NO KEY UPDATE` is the lock the UPDATE
   * takes anyway (it changes no key).
   */
  async claimChunks(runId: string, owner: string, n: number, leaseMs: number, held: readonly number[] = []): Promise<number[]> {
    const { rows } = await this.#q<{ chunk_index: number }>('Claiming chunks',
      `UPDATE run_chunks c SET state = 'claimed', lease_owner = $2, lease_until = now() + make_interval(secs => $4::float8 / 1000), attempts = c.attempts + 1
       FROM (SELECT chunk_index FROM run_chunks
             WHERE run_id = $1 AND (state = 'pending' OR (state = 'claimed'
               AND (lease_until < now() OR (lease_owner = $2 AND NOT (chunk_index = ANY($5::int[]))))))
             ORDER BY chunk_index LIMIT $3 FOR NO KEY UPDATE SKIP LOCKED) f
       WHERE c.run_id = $1 AND c.chunk_index = f.chunk_index
       RETURNING c.chunk_index`, [runId, owner, n, leaseMs, [...held]]);
    return rows.map((r) => r.chunk_index).sort((a, b) => a - b);
  }

  /** The committed chunks of a run and their checksums, to check a resumed or joined run's input against. */
  async doneChunks(runId: string): Promise<{ chunkIndex: number; checksum: string; byteStart: number; byteEnd: number }[]> {
    const { rows } = await this.#q<{ chunk_index: number; checksum: string; byte_start: string; byte_end: string }>('Reading the committed chunks',
      "SELECT chunk_index, checksum, byte_start, byte_end FROM run_chunks WHERE run_id = $1 AND state = 'done' ORDER BY chunk_index", [runId]);
    return rows.map((r) => ({ chunkIndex: r.chunk_index, checksum: r.checksum, byteStart: Number(r.byte_start), byteEnd: Number(r.byte_end) }));
  }

  /** Extends the leases of `owner`'s claimed chunks, and marks the run alive. */
  async renew(runId: string, owner: string, leaseMs: number): Promise<void> {
    // SKIP LOCKED: a chunk whose row is locked is being committed by a worker right now; waiting for it would hold up the scheduler.
    await this.#q('Renewing the chunk leases',
      `UPDATE run_chunks c SET lease_until = now() + make_interval(secs => $3::float8 / 1000)
       FROM (SELECT chunk_index FROM run_chunks WHERE run_id = $1 AND lease_owner = $2 AND state = 'claimed' FOR NO KEY UPDATE SKIP LOCKED) l
       WHERE c.run_id = $1 AND c.chunk_index = l.chunk_index`,
      [runId, owner, leaseMs]);
    await this.#q('Recording a heartbeat', 'UPDATE runs SET heartbeat_at = now(), owner_pid = $2, owner_host = $3 WHERE run_id = $1', [runId, process.pid, hostname()]);
  }

  /** Gives `owner`'s claimed, unfinished chunks back (a stopping process), for another process to claim at once. */
  async release(runId: string, owner: string, chunks?: readonly number[]): Promise<void> {
    await this.#q('Releasing chunks',
      `UPDATE run_chunks SET state = 'pending', lease_owner = NULL, lease_until = NULL
       WHERE run_id = $1 AND lease_owner = $2 AND state = 'claimed' AND ($3::int[] IS NULL OR chunk_index = ANY($3::int[]))`,
      [runId, owner, chunks === undefined ? null : [...chunks]]);
  }

  /** Chunks not done yet, and how many of them another live process holds. */
  async progress(runId: string, owner: string): Promise<{ open: number; heldByOthers: number; nextLeaseEndMs: number }> {
    const { rows } = await this.#q<{ open: number; others: number; next_ms: number | null }>('Reading the run\'s progress',
      `SELECT count(*) FILTER (WHERE state <> 'done')::int AS open,
         count(*) FILTER (WHERE state = 'claimed' AND lease_owner <> $2 AND lease_until >= now())::int AS others,
         (extract(epoch FROM min(lease_until) FILTER (WHERE state = 'claimed' AND lease_owner <> $2)) * 1000 - extract(epoch FROM now()) * 1000)::float8 AS next_ms
       FROM run_chunks WHERE run_id = $1`, [runId, owner]);
    const r = rows[0] as { open: number; others: number; next_ms: number | null };
    return { open: r.open, heldByOthers: r.others, nextLeaseEndMs: r.next_ms ?? 0 };
  }

  async chunkTotals(runId: string): Promise<ChunkTotals> {
    const { rows } = await this.#q<ChunkTotals>('Reading the committed counts', TOTALS, [runId]);
    return rows[0] as ChunkTotals;
  }

  /** A done chunk's checkpoint. */
  async getChunk(runId: string, chunkIndex: number): Promise<ChunkCheckpoint | undefined> {
    return (await this.listChunks(runId)).find((c) => c.chunkIndex === chunkIndex);
  }

  /** The done chunks of a run, in order, with their first line numbers (exact when every earlier chunk is done). */
  async listChunks(runId: string): Promise<ChunkCheckpoint[]> {
    const { rows } = await this.#q<{ state: string; chunk_index: number; first_line: number; line_count: number; byte_start: number; byte_end: number; checksum: string; blank_lines: number; inserted: number; updated: number; unchanged: number; rejected: number; committed_at: Date }>(
      'Reading the chunks',
      `SELECT chunk_index, (1 + coalesce(sum(line_count) OVER (ORDER BY chunk_index ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0))::float8 AS first_line,
         line_count, byte_start::float8 AS byte_start, byte_end::float8 AS byte_end, checksum, blank_lines, inserted, updated, unchanged, rejected, committed_at, state
       FROM run_chunks WHERE run_id = $1 ORDER BY chunk_index`, [runId]);
    return rows.filter((r) => r.state === 'done').map((r) => ({
      chunkIndex: r.chunk_index, firstLineNo: r.first_line, lineCount: r.line_count, byteStart: r.byte_start, byteEnd: r.byte_end,
      checksum: r.checksum, blankLines: r.blank_lines, inserted: r.inserted, updated: r.updated, unchanged: r.unchanged,
      rejected: r.rejected, committedAt: r.committed_at.toISOString(),
    }));
  }

  /**
   * Ends the run once: the first process to see every chunk done records it
   * `completed` with the totals of its chunks; a run already ended keeps its
   * end. Returns the run as recorded.
   */
  async completeRun(runId: string, telemetry: Record<string, unknown>): Promise<RunRecord> {
    return this.#tx(`Recording the end of run ${runId}`, async () => {
      const done = await this.#q(`Recording the end of run ${runId}`,
        `UPDATE runs r SET status = 'completed', finished_at = now(), lines_read = t."linesRead", blank_lines = t."blankLines",
           inserted = t.inserted, updated = t.updated, unchanged = t.unchanged, rejected = t.rejected, chunks = t.chunks
         FROM (${TOTALS}) t
         WHERE r.run_id = $1 AND r.status = 'running' AND NOT EXISTS (SELECT 1 FROM run_chunks WHERE run_id = $1 AND state <> 'done')`, [runId]);
      if (done.rowCount === 1) await this.writeTelemetry(runId, telemetry);
      return this.getRun(runId);
    });
  }

  /** Records a run as failed or cancelled (counts: its done chunks), unless it already ended. */
  async endRun(runId: string, status: 'failed' | 'cancelled', notes: string, telemetry: Record<string, unknown>): Promise<RunRecord> {
    return this.#tx(`Recording the end of run ${runId}`, async () => {
      const done = await this.#q(`Recording the end of run ${runId}`,
        `UPDATE runs r SET status = $2, finished_at = now(), notes = $3, lines_read = t."linesRead", blank_lines = t."blankLines",
           inserted = t.inserted, updated = t.updated, unchanged = t.unchanged, rejected = t.rejected, chunks = t.chunks
         FROM (${TOTALS}) t WHERE r.run_id = $1 AND r.status = 'running'`, [runId, status, pgText(notes)]);
      if (done.rowCount === 1) await this.writeTelemetry(runId, telemetry);
      return this.getRun(runId);
    });
  }

  async writeTelemetry(runId: string, telemetry: Record<string, unknown>): Promise<void> {
    await this.#q('Writing telemetry',
      `INSERT INTO telemetry (run_id, telemetry_json, created_at, updated_at) VALUES ($1, $2, now(), now())
       ON CONFLICT (run_id) DO UPDATE SET telemetry_json = excluded.telemetry_json, updated_at = now()`, [runId, JSON.stringify(telemetry)]);
  }

  async getRun(runId: string): Promise<RunRecord> {
    const run = await this.findRun(runId);
    if (run === undefined) throw unknownRun(runId);
    return run;
  }

  async findRun(runId: string): Promise<RunRecord | undefined> {
    const { rows } = await this.#q<RunRow>('Reading the run', `SELECT ${RUN_COLUMNS} FROM runs WHERE run_id = $1`, [runId]);
    return rows[0] === undefined ? undefined : toRecord(rows[0]);
  }

  /** The run `ref` names: an exact id, `latest`, or a unique id prefix (as `StateStore#resolveRun`). */
  async resolveRun(ref: string): Promise<RunRecord> {
    const exact = await this.findRun(ref);
    if (exact !== undefined) return exact;
    if (ref === LATEST) {
      const [latest] = await this.listRuns({ limit: 1 });
      if (latest === undefined) throw new StoreError('ERR_RUN_NOT_FOUND', 'There is no run yet, so no `latest` one');
      return latest;
    }
    if (ref === '') throw unknownRun(ref);
    const { rows } = await this.#q<{ run_id: string }>('Finding the run',
      'SELECT run_id FROM runs WHERE starts_with(run_id, $1) ORDER BY started_at DESC, run_seq DESC LIMIT 6', [ref]);
    if (rows.length === 0) throw unknownRun(ref);
    if (rows.length > 1) {
      const shown = rows.slice(0, 5).map((r) => JSON.stringify(r.run_id)).join(', ');
      throw new StoreError('ERR_RUN_AMBIGUOUS', `Run id prefix ${JSON.stringify(ref)} matches several runs (${shown}${rows.length > 5 ? ', ...' : ''}); give more of the id`);
    }
    return this.getRun((rows[0] as { run_id: string }).run_id);
  }

  async listRuns(options: { limit?: number; status?: RunStatus } = {}): Promise<RunRecord[]> {
    const limit = options.limit ?? 50;
    if (!Number.isInteger(limit) || limit < 1) throw new InvalidOptionError(`Expected \`limit\` to be a positive integer, got ${String(limit)}`);
    if (options.status !== undefined && !RUN_STATUSES.includes(options.status)) throw new InvalidOptionError(`Unknown status ${JSON.stringify(options.status)}`);
    const { rows } = await this.#q<RunRow>('Listing runs',
      `SELECT ${RUN_COLUMNS} FROM runs WHERE ($1::text IS NULL OR status = $1) ORDER BY started_at DESC, run_seq DESC LIMIT $2`,
      [options.status ?? null, Math.min(limit, 2 ** 31 - 1)]);
    return rows.map(toRecord);
  }

  /** No live process holds a running run: its heartbeat (renewed by every process that works on it) is older than {@link PG_STALE_MS}. */
  isStale(run: RunRecord, now = Date.now()): boolean {
    if (run.status !== 'running') return false;
    return run.heartbeatAt === null || now - Date.parse(run.heartbeatAt) > PG_STALE_MS;
  }

  async readTelemetry(runId: string): Promise<Record<string, unknown> | undefined> {
    const { rows } = await this.#q<{ t: Record<string, unknown> }>('Reading telemetry', 'SELECT telemetry_json AS t FROM telemetry WHERE run_id = $1', [runId]);
    return rows[0]?.t;
  }

  // Items ------------------------------------------------------------------

  async getIntelItem(itemId: string): Promise<IntelItem | undefined> {
    const { rows } = await this.#q<PgItemRow>('Reading an item', `SELECT ${ITEM_COLUMNS} FROM intel_items WHERE item_id = $1`, [itemId]);
    return rows[0] === undefined ? undefined : toPgItem(rows[0]);
  }

  async countItems(runId?: string): Promise<number> {
    const { rows } = await this.#q<{ n: number }>('Counting items', 'SELECT count(*)::float8 AS n FROM intel_items WHERE ($1::text IS NULL OR run_id = $1)', [runId ?? null]);
    return rows[0]?.n ?? 0;
  }

  /** A run's items in created_at order (then item_id), fetched in pages of 1000 by keyset, never all at once. */
  async *iterateIntelItemsForRun(runId: string): AsyncGenerator<IntelItem> {
    let after: [Date, string] | undefined;
    for (;;) {
      const { rows } = await this.#q<PgItemRow>('Reading items',
        `SELECT ${ITEM_COLUMNS} FROM intel_items WHERE run_id = $1 AND ($2::timestamptz IS NULL OR (created_at, item_id) > ($2, $3))
         ORDER BY created_at, item_id LIMIT 1000`, [runId, after?.[0] ?? null, after?.[1] ?? null]);
      for (const r of rows) yield toPgItem(r);
      if (rows.length < 1000) return;
      const last = rows[rows.length - 1] as PgItemRow;
      after = [last.created_at, last.item_id];
    }
  }

  // Rejects ----------------------------------------------------------------

  async *iterateRejects(runId: string): AsyncGenerator<RejectRecord> {
    let after = [-1, -1];
    for (;;) {
      // Pages by (chunk, line in chunk): line numbers are unknown (0) in chunks after an unfinished one.
      const { rows } = await this.#q<RejectRow>('Reading rejects',
        `${REJECTS} AND (r.chunk_index, r.line_in_chunk) > ($2, $3) ORDER BY r.chunk_index, r.line_in_chunk LIMIT 1000`, [runId, ...after]);
      for (const r of rows) yield toReject(r);
      if (rows.length < 1000) return;
      const last = rows[rows.length - 1] as RejectRow;
      after = [last.chunk_index, last.line_in_chunk];
    }
  }

  /** From each chunk's first byte: its line numbers may be unknown (an earlier chunk not done), its bytes never are. */
  async *iterateRejectPositions(runId: string): AsyncGenerator<LinePosition> {
    let after = [-1, -1];
    for (;;) {
      // A chunk's rejects commit with its done-mark and byte range (PgChunkBackend), so the join finds every one.
      const { rows } = await this.#q<{ chunk_index: number; line_in_chunk: number; byte_start: number }>('Reading rejected lines',
        `SELECT r.chunk_index, r.line_in_chunk, c.byte_start::float8 AS byte_start
           FROM run_rejects r JOIN run_chunks c USING (run_id, chunk_index)
          WHERE r.run_id = $1 AND (r.chunk_index, r.line_in_chunk) > ($2, $3)
          ORDER BY r.chunk_index, r.line_in_chunk LIMIT 1000`, [runId, ...after]);
      for (const r of rows) yield { fromByte: r.byte_start, line: r.line_in_chunk };
      if (rows.length < 1000) return;
      const last = rows[rows.length - 1] as { chunk_index: number; line_in_chunk: number };
      after = [last.chunk_index, last.line_in_chunk];
    }
  }

  async rejectCounts(runId: string): Promise<{ code: string; count: number }[]> {
    const { rows } = await this.#q<{ code: string; count: number }>('Counting rejects',
      'SELECT code, count(*)::float8 AS count FROM run_rejects WHERE run_id = $1 GROUP BY code ORDER BY count(*) DESC, code', [runId]);
    return rows;
  }

  async rejectExamples(runId: string, code: string, limit: number): Promise<RejectRecord[]> {
    const { rows } = await this.#q<RejectRow>('Reading rejects',
      `${REJECTS} AND r.code = $2 ORDER BY r.chunk_index, r.line_in_chunk LIMIT $3`, [runId, code, limit]);
    return rows.map(toReject);
  }

  // The run report's aggregates (as SQLite's ReportQueries) ------------------

  async chunkGroups(runId: string, groupSize: number): Promise<ChunkGroup[]> {
    const { rows } = await this.#q<ChunkGroup>('Reading the chunks\' timeline',
      `WITH c AS (
         SELECT chunk_index, line_count, blank_lines, rejected, extract(epoch FROM committed_at) * 1000 AS at,
           (row_number() OVER (ORDER BY committed_at, chunk_index) - 1) / $2 AS g
         FROM run_chunks WHERE run_id = $1 AND state = 'done')
       SELECT count(*)::float8 AS chunks, min(chunk_index) AS "firstChunk", max(chunk_index) AS "lastChunk", sum(line_count)::float8 AS lines,
         sum(line_count - blank_lines)::float8 AS items, sum(rejected)::float8 AS rejected, min(at)::float8 AS "firstAt", max(at)::float8 AS "lastAt"
       FROM c GROUP BY g ORDER BY g`, [runId, Math.max(1, Math.ceil(groupSize))]);
    return rows;
  }

  async rejectBins(runId: string, linesPerBin: number): Promise<RejectBin[]> {
    const { rows } = await this.#q<RejectBin>('Counting rejects by line',
      `SELECT (CASE WHEN x.line_no = 0 THEN -1 ELSE floor((x.line_no - 1) / $2) END)::float8 AS bin, x.code, count(*)::float8 AS count
       FROM (${REJECTS}) x GROUP BY 1, 2 ORDER BY 1, 2`, [runId, Math.max(1, Math.ceil(linesPerBin))]);
    return rows;
  }

  async scoreBins(runId: string, width: number, lastBin: number): Promise<ScoreBin[]> {
    const { rows } = await this.#q<ScoreBin>('Counting items by score',
      `SELECT decision, (CASE WHEN trend_score IS NULL THEN NULL ELSE greatest(0, least($3::int, floor(trend_score / $2)::int)) END)::float8 AS bin,
         count(*)::float8 AS count
       FROM intel_items WHERE run_id = $1 GROUP BY 1, 2 ORDER BY 1, 2`, [runId, width, lastBin]);
    return rows;
  }

  // Maintenance ------------------------------------------------------------

  /** What the server can tell of damage: rows pointing nowhere (the foreign keys forbid them, so normally nothing). */
  async checkIntegrity(): Promise<string[]> {
    const { rows } = await this.#q<{ problem: string }>('Checking integrity',
      `SELECT 'run ' || run_id || ': ' || count(*) || ' chunk rows beyond its plan' AS problem
         FROM run_chunks c JOIN runs r USING (run_id)
         WHERE r.plan_json IS NOT NULL AND c.chunk_index >= (r.plan_json->>'chunks')::int GROUP BY run_id`);
    return rows.map((r) => r.problem);
  }
}

/** PostgreSQL text cannot hold U+0000: shown as the escape `\u0000` instead. */
export function pgText(s: string): string {
  return s.includes('\u0000') ? s.replaceAll('\u0000', '\\u0000') : s;
}

/** A token for one process's part in runs (its leases). */
export function newOwnerToken(): string {
  return `${hostname()}:${process.pid}:${randomUUID()}`;
}

const ITEM_COLUMNS = `item_id, run_id, item_type, title, summary, claims_json::text AS claims_json, evidence_json::text AS evidence_json,
  scores_json::text AS scores_json, risk_flags_json::text AS risk_flags_json, explainability_json::text AS explainability_json,
  trend_score, decision, decision_reason, created_at, updated_at`;

/** The server returns timestamps as Dates. */
type PgItemRow = Omit<ItemRow, 'created_at' | 'updated_at'> & { created_at: Date; updated_at: Date };

function toPgItem(r: PgItemRow): IntelItem {
  return toItem({ ...r, created_at: r.created_at.toISOString(), updated_at: r.updated_at.toISOString() });
}

interface RejectRow { chunk_index: number; line_in_chunk: number; line_no: number; code: string; reason: string; excerpt: string }

function toReject(r: RejectRow): RejectRecord {
  return { lineNo: r.line_no, code: r.code, reason: r.reason, excerpt: r.excerpt };
}

function toRecord(r: RunRow): RunRecord {
  return {
    runId: r.run_id, runType: r.run_type, startedAt: r.started_at.toISOString(), finishedAt: r.finished_at?.toISOString() ?? null,
    status: r.status, settings: r.settings_snapshot_json, notes: r.notes, linesRead: r.lines_read, blankLines: r.blank_lines,
    inserted: r.inserted, updated: r.updated, unchanged: r.unchanged, rejected: r.rejected, chunks: r.chunks,
    heartbeatAt: r.heartbeat_at?.toISOString() ?? null, ownerPid: r.owner_pid, ownerHost: r.owner_host, ownerToken: r.owner_token,
    interruptedMs: r.interrupted_ms,
  };
}
