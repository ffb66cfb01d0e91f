import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IntelRow, Reject } from '../../src/domain/types';
import { isKept, type ChunkCommitResult, type KeptLine } from '../../src/store/chunk-backend';
import { SqliteChunkBackend } from '../../src/sqlite/sqlite-chunk-backend';
import type { ChunkMeta } from '../../src/store/types';

/** A fresh temp folder per test, removed afterwards by `cleanup()`. */
export function tempDir(prefix = 'bo-test-'): { dir: string; db: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, db: join(dir, 'state.sqlite'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A store-ready row built by hand (the store tests do not depend on the parser). */
export function makeRow(itemId: string, over: Partial<IntelRow> = {}): IntelRow {
  return {
    itemId, itemType: 'news', title: `Title ${itemId}`, summary: 'summary',
    claimsJson: '["a claim"]', evidenceJson: '[{"url":"https://reuters.com/x","source":"Reuters","published_at":null}]',
    scoresJson: '{"impact":20,"timeliness":15,"virality":10,"relevance":22,"confidence":8,"trend_score":77.3}',
    riskFlagsJson: '[]', explainabilityJson: '["because"]', trendScore: 77.3, decision: 'promote',
    decisionReason: 'must-cover: score 77.3 >= 75', createdAt: null, lineHash: null, ...over,
  };
}

/**
 * Commits one chunk on `backend` as a worker does: stages its rows afresh
 * (each at its line, `meta.firstLineNo` + its place in `entries`), then
 * commits them with its kept lines.
 */
export function commitEntries(
  backend: SqliteChunkBackend, c: { runId: string; meta: ChunkMeta; entries: readonly (IntelRow | KeptLine)[]; blankLines: number; rejects: Reject[] },
): ChunkCommitResult {
  backend.clearStage();
  backend.stage((put) => c.entries.forEach((e, i) => { if (!isKept(e)) put(e, c.meta.firstLineNo + i); }));
  return backend.commitChunk({ runId: c.runId, meta: c.meta, kept: c.entries.filter(isKept), blankLines: c.blankLines, rejects: c.rejects });
}

/** Commits one chunk to the database at `dbPath` on a connection of its own, as a worker does. */
export function commitChunk(
  dbPath: string, runId: string, chunk: { meta: ChunkMeta; rows: IntelRow[]; blankLines: number; rejects: Reject[] },
): void {
  const backend = SqliteChunkBackend.open(dbPath);
  try {
    commitEntries(backend, { runId, meta: chunk.meta, entries: chunk.rows, blankLines: chunk.blankLines, rejects: chunk.rejects });
  } finally {
    backend.close();
  }
}
