import type { ChunkGroup, ReadStore, RejectBin, ScoreBin } from '../store/read-store';
import { isStale } from './run-owner';
import { StateStore } from './state-store';
import type { IntelItem, LineCounts, LinePosition, RejectRecord, RunRecord, RunStatus } from '../store/types';

/**
 * A SQLite file as a {@link ReadStore}: a thin adapter over a read-only
 * `StateStore`, which never creates the file or its folders.
 */
export class SqliteReadStore implements ReadStore {
  readonly kind = 'sqlite';
  readonly #store: StateStore;

  private constructor(store: StateStore) {
    this.#store = store;
  }

  /** Opens the existing database at `path` read-only (throws what `StateStore.open` throws). */
  static open(path: string): SqliteReadStore {
    return new SqliteReadStore(StateStore.open(path, { readonly: true }));
  }

  get label(): string { return this.#store.path; }

  async resolveRun(ref: string): Promise<RunRecord> { return this.#store.resolveRun(ref); }
  async listRuns(options?: { limit?: number; status?: RunStatus }): Promise<RunRecord[]> { return this.#store.listRuns(options); }
  async chunkTotals(runId: string): Promise<LineCounts & { chunks: number }> { return this.#store.chunkTotals(runId); }
  async readTelemetry(runId: string): Promise<Record<string, unknown> | undefined> { return this.#store.readTelemetry(runId); }
  async getIntelItem(itemId: string): Promise<IntelItem | undefined> { return this.#store.getIntelItem(itemId); }
  // `yield*` hands an early `return()` on to the statement's iterator, which then releases the statement.
  async *iterateIntelItemsForRun(runId: string): AsyncGenerator<IntelItem> { yield* this.#store.iterateIntelItemsForRun(runId); }
  async *iterateRejects(runId: string): AsyncGenerator<RejectRecord> { yield* this.#store.iterateRejects(runId); }
  /** A SQLite run reads its input in order, so every reject knows its line number. */
  async *iterateRejectPositions(runId: string): AsyncGenerator<LinePosition> {
    for (const r of this.#store.iterateRejects(runId)) yield { fromByte: 0, line: r.lineNo };
  }
  async rejectCounts(runId: string): Promise<{ code: string; count: number }[]> { return this.#store.rejectCounts(runId); }
  async rejectExamples(runId: string, code: string, limit: number): Promise<RejectRecord[]> { return this.#store.rejectExamples(runId, code, limit); }
  /** Judged by the run's lock file next to the database, then its heartbeat (see run-owner.ts). */
  isStale(run: RunRecord): boolean { return isStale(run, this.#store.path); }
  async checkIntegrity(): Promise<string[]> { return this.#store.checkIntegrity(); }
  async chunkGroups(runId: string, groupSize: number): Promise<ChunkGroup[]> { return this.#store.chunkGroups(runId, groupSize); }
  async rejectBins(runId: string, linesPerBin: number): Promise<RejectBin[]> { return this.#store.rejectBins(runId, linesPerBin); }
  async scoreBins(runId: string, width: number, lastBin: number): Promise<ScoreBin[]> { return this.#store.scoreBins(runId, width, lastBin); }
  async close(): Promise<void> { this.#store.close(); }
}
