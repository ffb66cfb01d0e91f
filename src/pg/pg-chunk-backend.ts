/**
 * Commits one chunk on a worker's own PostgreSQL connection, in one
 * transaction: the chunk's row is locked and checked not done, the stored
 * rows of its items are locked in item_id order (so overlapping chunks
 * cannot deadlock on them), its winning rows are COPYed into a staging table
 * and merged (`INSERT ... ON CONFLICT DO UPDATE ... WHERE` for the stored
 * items, `ON CONFLICT DO NOTHING` for new ones, then a merge of just the new
 * items another transaction inserted meanwhile, once they are locked), its
 * rejects and its done-mark are written. Workers and processes commit in any
 * order: a row keeps the position (run_seq, byte offset) of the line that
 * wrote it, and an older position never overwrites a newer one.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { contentHash } from '../domain/hash';
import type { IntelRow, Reject } from '../domain/types';
import { StoreError } from '../errors';
import type { CopyRecords } from './copy-binary';
import { isKept, type KeptLine } from '../store/chunk-backend';
import type { UpsertCounts } from '../store/types';
import { connect, describeServer, fromPgError, isRetryableConflict } from './connect';
import { pgText } from './pg-store';

/** A chunk to commit: the task's identity, and what the worker made of its lines. */
export interface PgChunkCommit {
  runId: string;
  /** The run's place in run order: the first half of every row's position. */
  runSeq: number;
  chunkIndex: number;
  byteStart: number;
  byteEnd: number;
  lineCount: number;
  checksum: string;
  /** Staged rows and kept lines, in line order. */
  entries: readonly (StagedRow | KeptLine)[];
  /** Each entry's byte offset in the input. */
  posOf: (e: StagedRow | KeptLine) => number;
  /** The staged rows' COPY records. */
  records: CopyRecords;
  /** Line numbers are lines within the chunk. */
  rejects: readonly Reject[];
  blankLines: number;
}

export type PgCommitResult =
  | { committed: UpsertCounts & { blankLines: number; rejected: number }; conflicts: number }
  | { already: true; conflicts: number }
  | { stale: readonly KeptLine[]; conflicts: number };

/** Transactions rolled back by a deadlock, a serialization failure or a race are run again this often. */
const MAX_CONFLICT_RETRIES = 20;

const STAGE_COLUMNS = [
  'item_id', 'run_id', 'item_type', 'title', 'summary', 'claims_json', 'evidence_json', 'scores_json', 'risk_flags_json',
  'explainability_json', 'trend_score', 'decision', 'decision_reason', 'created_at', 'updated_at', 'line_hash', 'content_hash',
  'pos_run', 'pos_byte',
] as const;
const CONTENT = ['item_type', 'title', 'summary', 'claims_json', 'evidence_json', 'scores_json', 'risk_flags_json',
  'explainability_json', 'trend_score', 'decision', 'decision_reason', 'content_hash'] as const;
const SAME = 't.content_hash = excluded.content_hash';

const UPDATE_SET = `ON CONFLICT (item_id) DO UPDATE SET ${CONTENT.map((c) => `${c} = excluded.${c}`).join(', ')},
    run_id = CASE WHEN ${SAME} THEN t.run_id ELSE excluded.run_id END,
    updated_at = CASE WHEN ${SAME} THEN t.updated_at ELSE excluded.updated_at END,
    line_hash = CASE WHEN ${SAME} THEN coalesce(t.line_hash, excluded.line_hash) ELSE excluded.line_hash END,
    pos_run = excluded.pos_run, pos_byte = excluded.pos_byte
  WHERE (excluded.pos_run, excluded.pos_byte) > (t.pos_run, t.pos_byte)`;
const COLUMNS = `${STAGE_COLUMNS.join(', ')}, created_pos_run, created_pos_byte`;
/** A staged row's created_at is its item's first line's in the chunk, at `created_pos_byte` (NULL: the staged line's own). */
const STAGED = `${STAGE_COLUMNS.join(', ')}, pos_run, coalesce(created_pos_byte, pos_byte)`;
/** Staged rows of items that had a row when the chunk locked them. */
const MERGE_STORED = `INSERT INTO intel_items AS t (${COLUMNS}) SELECT ${STAGED} FROM bo_stage WHERE NOT is_new ORDER BY item_id ${UPDATE_SET}`;
/** Staged rows of new items; a row another transaction inserted meanwhile is left alone and not returned. */
const INSERT_NEW = `INSERT INTO intel_items (${COLUMNS}) SELECT ${STAGED} FROM bo_stage WHERE is_new ORDER BY item_id
  ON CONFLICT (item_id) DO NOTHING RETURNING item_id`;
/** Staged rows of the items ($1) another transaction inserted during INSERT_NEW, now locked. */
const MERGE_RACED = `INSERT INTO intel_items AS t (${COLUMNS}) SELECT ${STAGED} FROM bo_stage WHERE item_id = ANY($1::text[]) ORDER BY item_id ${UPDATE_SET}`;
/** The first line of an item in the chunk, where it is not the line staged (the last). */
const STAGE_FIRSTS = `UPDATE bo_stage s SET created_at = u.c, created_pos_byte = u.p FROM unnest($1::text[], $2::timestamptz[], $3::bigint[]) AS u (id, c, p)
  WHERE s.item_id = u.id`;
/**
 * Rows a later chunk of this run ($1) created: the item's first line is in
 * this, earlier, chunk, so the row takes its created_at (the content stays the later line's).
 */
const EARLIER_FIRSTS = `UPDATE intel_items t SET created_at = u.c, created_pos_byte = u.p FROM unnest($2::text[], $3::timestamptz[], $4::bigint[]) AS u (id, c, p)
  WHERE t.item_id = u.id AND t.created_pos_run = $1 AND u.p < t.created_pos_byte`;
const LOCK_STORED = `SELECT item_id, content_hash, line_hash, pos_run::float8 AS pos_run, pos_byte::float8 AS pos_byte,
    created_pos_run::float8 AS created_pos_run, created_pos_byte::float8 AS created_pos_byte
  FROM intel_items WHERE item_id = ANY($1::text[]) ORDER BY item_id FOR UPDATE`;
/** Of the items $1, those whose row no longer holds the line whose hash is at the same place in $2 (or has no row). */
const CHANGED_SINCE = `SELECT u.id FROM unnest($1::text[], $2::text[]) AS u (id, line_hash)
  LEFT JOIN intel_items t ON t.item_id = u.id WHERE t.line_hash IS DISTINCT FROM u.line_hash`;
/** Whether a run that started before $3 (run_seq) is running, and how many earlier chunks of this run are not done and have not published their item ids. */
const KEPT_GUARD = `SELECT EXISTS (SELECT 1 FROM runs WHERE status = 'running' AND run_seq < $3) AS older,
    (SELECT count(*)::int FROM run_chunks WHERE run_id = $1 AND chunk_index < $2 AND state <> 'done' AND item_ids IS NULL) AS unpublished`;
/** Of the items $3, those in the published ids of the earlier chunks of this run that are not done. */
const KEPT_SHARED = `SELECT DISTINCT id FROM run_chunks c, unnest(c.item_ids) AS id
  WHERE c.run_id = $1 AND c.chunk_index < $2 AND c.state <> 'done' AND id = ANY($3::text[])`;

/**
 * What holds a chunk's commit back: an earlier chunk of the run that is not
 * done and has not published its item ids yet, or has and shares one of
 * this chunk's ($3); and whether the run still runs.
 */
const EARLIER_GUARD = `SELECT (SELECT status FROM runs WHERE run_id = $1) AS status,
    EXISTS (SELECT 1 FROM run_chunks WHERE run_id = $1 AND chunk_index < $2 AND state <> 'done' AND item_ids IS NULL) AS unpublished,
    EXISTS (SELECT 1 FROM run_chunks c, unnest(c.item_ids) AS id
            WHERE c.run_id = $1 AND c.chunk_index < $2 AND c.state <> 'done' AND id = ANY($3::text[])) AS shared`;
/** Told when a chunk publishes its item ids or commits: a waiting chunk looks again. */
const CHANNEL = 'bo_chunks';
/** A waiting chunk looks again this often even when told nothing (a notice can be missed while reconnecting). */
const RECHECK_MS = 250;

/** The rows written disagreed with the rows locked (a row deleted meanwhile?): run the chunk again. */
class Raced extends Error {}

interface StoredRow {
  item_id: string; content_hash: string; line_hash: string | null; pos_run: number; pos_byte: number;
  created_pos_run: number | null; created_pos_byte: number | null;
}

export class PgChunkBackend {
  readonly #client: pg.Client;
  readonly #where: string;

  private constructor(client: pg.Client, where: string) {
    this.#client = client;
    this.#where = where;
  }

  static async open(url: string, label: string, leaseMs?: number): Promise<PgChunkBackend> {
    const client = await connect(url, label, 'A worker opening its connection', 'brand-orchestrator worker', leaseMs);
    const where = describeServer(client);
    try {
      // Per connection, emptied at each commit.
      await client.query('CREATE TEMP TABLE bo_stage (LIKE intel_items INCLUDING DEFAULTS, is_new boolean NOT NULL) ON COMMIT DELETE ROWS');
      // The merge sorts a chunk's rows by item_id: ~5 MB for a 4 MiB chunk, past the default 4 MB, where it spilled to disk.
      await client.query("SET work_mem = '64MB'");
      await client.query(`LISTEN ${CHANNEL}`);
    } catch (err) {
      await client.end().catch(() => undefined);
      throw fromPgError(err, client, 'A worker preparing its staging table');
    }
    const backend = new PgChunkBackend(client, where);
    client.on('notification', () => backend.#wake?.());
    return backend;
  }

  /**
   * Waits until no earlier chunk of the run can still deliver one of
   * `itemIds`: each earlier chunk is done, or has published item ids that
   * share none. Chunks then commit in input order wherever their lines meet
   * the same item, so counts and created_at follow the lines' order as the
   * spec requires, while chunks with no item in common commit in any order.
   * Gives up (false) after `maxWaitMs`, or when the run no longer runs: the
   * scheduler then sets the chunk aside for a while, so that its workers go
   * on with other chunks, or claim one whose process died, rather than all
   * wait for the same one.
   */
  async waitForEarlier(runId: string, chunkIndex: number, itemIds: readonly string[], maxWaitMs: number): Promise<boolean> {
    if (chunkIndex === 0) return true;
    const until = performance.now() + maxWaitMs;
    for (;;) {
      const { rows: [g] } = await this.#client.query<{ status: string; unpublished: boolean; shared: boolean }>(EARLIER_GUARD, [runId, chunkIndex, itemIds]);
      if (g === undefined || g.status !== 'running') return false;
      if (!g.unpublished && !g.shared) return true;
      const left = until - performance.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(RECHECK_MS, left));
        this.#wake = () => { clearTimeout(timer); resolve(); };
      });
      this.#wake = undefined;
    }
  }

  /** Extra merge rounds of the current chunk: another transaction inserted some of its new items meanwhile. */
  #extraRounds = 0;
  /** Wakes a chunk waiting in `waitForEarlier`. */
  #wake: (() => void) | undefined;

  async close(): Promise<void> {
    await this.#client.end().catch(() => undefined);
  }

  /** Line hashes of the stored rows among `itemIds`, read outside any transaction. */
  async storedLineHashes(itemIds: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    if (itemIds.length === 0) return out;
    const { rows } = await this.#client.query<{ item_id: string; line_hash: string }>(
      'SELECT item_id, line_hash FROM intel_items WHERE item_id = ANY($1::text[]) AND line_hash IS NOT NULL', [itemIds]);
    for (const r of rows) out.set(r.item_id, r.line_hash);
    return out;
  }

  /** Commits the chunk (see the file comment), running it again after a deadlock or a race. */
  async commitChunk(c: PgChunkCommit): Promise<PgCommitResult> {
    this.#extraRounds = 0;
    for (let conflicts = 0; ; conflicts++) {
      try {
        const out = await this.#tryCommit(c);
        return { ...out, conflicts: conflicts + this.#extraRounds };
      } catch (err) {
        await this.#client.query('ROLLBACK').catch(() => undefined);
        if ((isRetryableConflict(err) || err instanceof Raced) && conflicts < MAX_CONFLICT_RETRIES) {
          await sleep(5 + Math.random() * 20 * (conflicts + 1));
          continue;
        }
        throw fromPgError(err, this.#client, `Chunk ${c.chunkIndex} (bytes ${c.byteStart}-${c.byteEnd})`);
      }
    }
  }

  async #tryCommit(c: PgChunkCommit): Promise<{ committed: UpsertCounts & { blankLines: number; rejected: number } } | { already: true } | { stale: readonly KeptLine[] }> {
    const q = this.#client;
    await q.query('BEGIN');
    // The chunk's row first: a second process committing the same chunk waits here, then sees it done.
    const state = await q.query<{ state: string }>('SELECT state FROM run_chunks WHERE run_id = $1 AND chunk_index = $2 FOR UPDATE', [c.runId, c.chunkIndex]);
    if (state.rows[0] === undefined) throw new StoreError('ERR_RUN_NOT_FOUND', `Run ${c.runId} has no chunk ${c.chunkIndex}`);
    if (state.rows[0].state === 'done') {
      await q.query('ROLLBACK');
      return { already: true };
    }
    const parsed = new Set<string>();
    const keptIds: string[] = [];
    for (const e of c.entries) {
      if (!isKept(e)) parsed.add(e.itemId);
    }
    for (const e of c.entries) {
      if (isKept(e) && !parsed.has(e.itemId)) keptIds.push(e.itemId);
    }
    const move = await this.#keptToMove(c, keptIds);
    const locked = [...parsed, ...move];
    const { rows } = locked.length === 0 ? { rows: [] as StoredRow[] } : await q.query<StoredRow>(LOCK_STORED, [locked]);
    const stored = new Map(rows.map((r) => [r.item_id, r]));
    // The other kept lines: not locked, not written (see #keptToMove); only checked that their rows still hold their lines.
    const freeKept = c.entries.filter((e): e is KeptLine => isKept(e) && !parsed.has(e.itemId) && !move.has(e.itemId));
    const free = new Map<string, boolean>(freeKept.map((k) => [k.itemId, false]));
    if (freeKept.length > 0) {
      const { rows: changed } = await q.query<{ id: string }>(CHANGED_SINCE, [freeKept.map((k) => k.itemId), freeKept.map((k) => k.lineHash)]);
      for (const r of changed) free.set(r.id, true);
    }
    let plan = classify(c, stored, free);
    if (plan.stale.length > 0) {
      await q.query('ROLLBACK');
      return { stale: plan.stale };
    }
    if (plan.winners.length > 0) {
      for (const w of plan.winners) c.records.setLastBool(w.row.record, w.isNew);
      await pipeline(Readable.from(c.records.stream(plan.winners.map((w) => w.row.record))),
        q.query(copyFrom(`COPY bo_stage (${STAGE_COLUMNS.join(', ')}, is_new) FROM STDIN (FORMAT binary)`)));
      const firsts = plan.winners.flatMap((w) => (w.first === w.row ? [] : [w.first]));
      if (firsts.length > 0) await q.query(STAGE_FIRSTS, firstsParams(firsts));
      // Stored items first: their rows are locked, so this waits for no one.
      const updates = plan.winners.length - plan.inserts;
      if (updates > 0 && (await q.query(MERGE_STORED)).rowCount !== updates) throw new Raced('the merge of stored items wrote fewer rows than were locked');
      const raced: string[] = [];
      if (plan.inserts > 0) {
        const { rows: inserted } = await q.query<{ item_id: string }>(INSERT_NEW);
        if (inserted.length !== plan.inserts) {
          const done = new Set(inserted.map((r) => r.item_id));
          for (const w of plan.winners) if (w.isNew && !done.has(w.row.itemId)) raced.push(w.row.itemId);
        }
      }
      if (raced.length > 0) {
        // Another transaction inserted these items after the lock above (the insert waited for it to commit):
        // lock them now, count their lines against those rows, and merge only them. The rest stands.
        this.#extraRounds++;
        const { rows: found } = await q.query<StoredRow>(LOCK_STORED, [raced]);
        if (found.length !== raced.length) throw new Raced('rows another transaction inserted during the merge were gone when locked');
        for (const r of found) stored.set(r.item_id, r);
        plan = classify(c, stored, free);
        if (plan.stale.length > 0) {
          await q.query('ROLLBACK');
          return { stale: plan.stale };
        }
        const racedSet = new Set(raced);
        const expected = plan.winners.filter((w) => racedSet.has(w.row.itemId)).length;
        if ((await q.query(MERGE_RACED, [raced])).rowCount !== expected) throw new Raced('the merge of raced items disagreed with their locked rows');
      }
    }
    if (plan.earlier.length > 0) await q.query(EARLIER_FIRSTS, [c.runSeq, ...firstsParams(plan.earlier)]);
    if (plan.moved.length > 0) {
      await q.query(
        `UPDATE intel_items t SET pos_run = $1, pos_byte = u.pos FROM unnest($2::text[], $3::bigint[]) AS u(id, pos)
         WHERE t.item_id = u.id AND ($1, u.pos) > (t.pos_run, t.pos_byte)`,
        [c.runSeq, plan.moved.map((k) => k.itemId), plan.moved.map((k) => c.posOf(k))]);
    }
    if (c.rejects.length > 0) {
      await q.query(
        `INSERT INTO run_rejects (run_id, chunk_index, line_in_chunk, code, reason, excerpt)
         SELECT $1, $2, * FROM unnest($3::int[], $4::text[], $5::text[], $6::text[])`,
        [c.runId, c.chunkIndex, c.rejects.map((r) => r.lineNo), c.rejects.map((r) => r.code), c.rejects.map((r) => pgText(r.reason)), c.rejects.map((r) => pgText(r.excerpt))]);
    }
    const counts = { ...plan.counts, blankLines: c.blankLines, rejected: c.rejects.length };
    await q.query(
      `UPDATE run_chunks SET state = 'done', lease_owner = NULL, lease_until = NULL, item_ids = NULL, byte_start = $3, byte_end = $4, line_count = $5,
         checksum = $6, blank_lines = $7, inserted = $8, updated = $9, unchanged = $10, rejected = $11, committed_at = now()
       WHERE run_id = $1 AND chunk_index = $2`,
      [c.runId, c.chunkIndex, c.byteStart, c.byteEnd, c.lineCount, c.checksum, counts.blankLines, counts.inserted, counts.updated, counts.unchanged, counts.rejected]);
    await q.query(`NOTIFY ${CHANNEL}`); // delivered at COMMIT
    await q.query('COMMIT');
    return { committed: counts };
  }

  /**
   * Of the chunk's kept lines (identical to their stored row's line), those
   * whose rows must be locked and their position moved to the line's. A kept
   * line writes nothing, and its row keeps an older position, unless a line
   * at an earlier position could still write the row after this commit: a
   * line of an earlier chunk of this run that is not done yet, or of an
   * older run that is still running. Every later line wins anyway. Earlier
   * chunks publish their item ids before they commit (`publishItemIds`);
   * while one has not, or while an older run runs, every kept row moves.
   * Moving them all had cost a re-ingest of an unchanged feed a lock and a
   * row update per line, making it slower than the first ingest.
   */
  async #keptToMove(c: PgChunkCommit, keptIds: readonly string[]): Promise<Set<string>> {
    if (keptIds.length === 0) return new Set();
    const q = this.#client;
    const { rows: [guard] } = await q.query<{ older: boolean; unpublished: number }>(KEPT_GUARD, [c.runId, c.chunkIndex, c.runSeq]);
    if (guard === undefined || guard.older || guard.unpublished > 0) return new Set(keptIds);
    const { rows } = await q.query<{ id: string }>(KEPT_SHARED, [c.runId, c.chunkIndex, keptIds]);
    return new Set(rows.map((r) => r.id));
  }

  /** Publishes the item ids of a chunk about to be committed (see `#keptToMove`), outside its transaction. */
  async publishItemIds(runId: string, chunkIndex: number, itemIds: readonly string[]): Promise<void> {
    await this.#client.query("UPDATE run_chunks SET item_ids = $3 WHERE run_id = $1 AND chunk_index = $2 AND state <> 'done'", [runId, chunkIndex, itemIds]);
    await this.#client.query(`NOTIFY ${CHANNEL}`);
  }

  /** For messages. */
  get where(): string {
    return this.#where;
  }
}

interface Plan {
  counts: UpsertCounts;
  /** The last row of each item whose position is newer than the stored row's (or that has none), and the item's first row in the chunk. */
  winners: { row: StagedRow; first: StagedRow; isNew: boolean }[];
  /** The first rows of items whose row a later chunk of this run created: their created_at is this chunk's. */
  earlier: StagedRow[];
  /** Of the winners, how many are new items. */
  inserts: number;
  /** Kept lines newer than their stored row: only its position moves. */
  moved: KeptLine[];
  stale: KeptLine[];
}

/**
 * Counts every line as the row it meets: a new item's first line is
 * inserted; a line whose content equals the row before it (the stored one,
 * or the previous line of the item in this chunk) is unchanged; else
 * updated. When another chunk's newer line already wrote the row, this
 * chunk's lines count against that row and write nothing.
 */
function classify(c: PgChunkCommit, stored: ReadonlyMap<string, StoredRow>, free: ReadonlyMap<string, boolean>): Plan {
  const counts: UpsertCounts = { inserted: 0, updated: 0, unchanged: 0 };
  const last = new Map<string, StagedRow | KeptLine>();
  const first = new Map<string, StagedRow>(); // item -> its first parsed line in the chunk
  const prev = new Map<string, string>(); // item -> content hash of the row the next line meets
  const stale: KeptLine[] = [];
  for (const e of c.entries) {
    const changed = free.get(e.itemId);
    if (changed !== undefined && isKept(e)) {
      // The item's only line in the chunk, identical to its row's line: unchanged, nothing to write.
      if (changed) stale.push(e);
      else counts.unchanged++;
      continue;
    }
    const s = stored.get(e.itemId);
    let hash: string;
    if (isKept(e)) {
      if (s === undefined || s.line_hash !== e.lineHash) {
        stale.push(e);
        continue;
      }
      hash = s.content_hash;
    } else {
      hash = e.contentHash;
      if (!first.has(e.itemId)) first.set(e.itemId, e);
    }
    const before = prev.get(e.itemId) ?? s?.content_hash;
    if (before === undefined) counts.inserted++;
    else if (before === hash) counts.unchanged++;
    else counts.updated++;
    prev.set(e.itemId, hash);
    last.set(e.itemId, e);
  }
  const winners: Plan['winners'] = [];
  const earlier: StagedRow[] = [];
  const moved: KeptLine[] = [];
  let inserts = 0;
  for (const [id, entry] of last) {
    const s = stored.get(id);
    const pos = c.posOf(entry);
    const firstRow = first.get(id);
    if (s !== undefined && (s.pos_run > c.runSeq || (s.pos_run === c.runSeq && s.pos_byte >= pos))) {
      if (firstRow !== undefined && s.created_pos_run === c.runSeq && firstRow.pos < (s.created_pos_byte ?? -1)) earlier.push(firstRow);
      continue;
    }
    if (isKept(entry)) moved.push(entry);
    else {
      winners.push({ row: entry, first: firstRow ?? entry, isNew: s === undefined });
      if (s === undefined) inserts++;
    }
  }
  return { counts, winners, earlier, inserts, moved, stale };
}

/** A parsed row, encoded as its COPY record: what a chunk keeps of it until the commit. */
export interface StagedRow {
  readonly itemId: string;
  readonly contentHash: string;
  readonly record: number;
  /** The line's byte offset in the input. */
  readonly pos: number;
  /** Its created_at (the line's, else the time of ingest), in ms since the epoch. */
  readonly createdMs: number;
}

/** Item ids, created_at and positions of `rows`, as the arrays STAGE_FIRSTS and EARLIER_FIRSTS unnest. */
function firstsParams(rows: readonly StagedRow[]): [string[], string[], number[]] {
  return [rows.map((r) => r.itemId), rows.map((r) => new Date(r.createdMs).toISOString()), rows.map((r) => r.pos)];
}

/** Encodes `r` (from `runId`, its line at byte `pos`) as a COPY record of the staging table. */
export function stageRow(records: CopyRecords, r: IntelRow, run: { runId: string; runSeq: number }, pos: number, now: number): StagedRow {
  const hash = contentHash(r);
  const record = records.begin(STAGE_COLUMNS.length + 1);
  records.text(r.itemId);
  records.text(run.runId);
  records.text(r.itemType);
  records.text(r.title);
  records.text(r.summary);
  records.text(r.claimsJson);
  records.text(r.evidenceJson);
  records.text(r.scoresJson);
  records.text(r.riskFlagsJson);
  records.text(r.explainabilityJson);
  records.float8(r.trendScore);
  records.text(r.decision);
  records.text(r.decisionReason);
  const createdMs = r.createdAt === null ? now : Date.parse(r.createdAt);
  records.timestamptz(createdMs);
  records.timestamptz(now);
  records.text(r.lineHash);
  records.text(hash);
  records.int8(run.runSeq);
  records.int8(pos);
  records.bool(false); // is_new, set at the commit
  return { itemId: r.itemId, contentHash: hash, record, pos, createdMs };
}
