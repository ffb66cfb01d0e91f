/**
 * The backend-free steps of ingesting a chunk, shared by the SQLite
 * (`ChunkIngester`) and PostgreSQL (`PgChunkIngester`) workers: split and
 * hash the lines, keep the ones that hash like their stored row's line, parse
 * the rest, and parse kept lines after all when they went stale.
 */
import { lineHash, parseIntelLine, quickItemId } from '../src/domain';
import type { AppConfig } from '../src/config';
import type { IntelRow, Reject } from '../src/domain/types';
import { isKept, type KeptLine } from '../src/store/chunk-backend';
import { lineText, splitChunk } from './lines';

/** A line to parse or keep: its raw bytes (a view into the chunk), its line hash and its guessed `item_id`. */
export interface HashedLine {
  readonly lineNo: number;
  readonly bytes: Uint8Array;
  readonly hash: string;
  readonly id: string | undefined;
}

export interface SplitChunk {
  lines: HashedLine[];
  rejects: Reject[];
  blankLines: number;
}

/** Split: blank lines counted, undecodable ones rejected, the rest hashed. */
export function splitAndHash(bytes: Uint8Array, firstLineNo: number, seed: string, maxLineBytes: number): SplitChunk {
  const lines: HashedLine[] = [];
  const rejects: Reject[] = [];
  let blankLines = 0;
  for (const line of splitChunk(bytes, firstLineNo, maxLineBytes)) {
    if (line.kind === 'blank') blankLines++;
    else if (line.kind === 'reject') rejects.push(line.reject);
    else lines.push({ lineNo: line.lineNo, bytes: line.bytes, hash: lineHash(seed, line.bytes), id: quickItemId(line.bytes) });
  }
  return { lines, rejects, blankLines };
}

/** Item ids to look up the stored line hashes of. */
export function guessedIds(lines: readonly HashedLine[]): string[] {
  return lines.flatMap((l) => (l.id === undefined ? [] : [l.id]));
}

/** Parses one line into a row (with its line hash), or a reject. */
export type LineParser<R = IntelRow> = (lineNo: number, bytes: Uint8Array, hash: string, rejects: Reject[]) => R | undefined;

export function lineParser(config: AppConfig, maxLineBytes: number, check?: (row: IntelRow, lineNo: number) => Reject | undefined): LineParser {
  return (lineNo, bytes, hash, rejects) => {
    const r = parseIntelLine(lineText(bytes), lineNo, config, maxLineBytes);
    if (!r.ok) {
      rejects.push(r.reject);
      return undefined;
    }
    const bad = check?.(r.row, lineNo);
    if (bad !== undefined) {
      rejects.push(bad);
      return undefined;
    }
    r.row.lineHash = hash;
    return r.row;
  };
}

/** What a parsed line becomes: an `IntelRow` on SQLite, its staged record on PostgreSQL. */
export interface ParsedEntry { readonly itemId: string }

export interface Entries<R extends ParsedEntry = IntelRow> {
  /** Rows and kept lines, in line order. */
  entries: (R | KeptLine)[];
  /** The bytes of each kept line, by line number, for parsing it if it goes stale. */
  keptBytes: Map<number, Uint8Array>;
}

/**
 * Skip unchanged: a line that hashes like the line behind its item's stored
 * row would parse to that row. Not when an earlier line of this chunk has
 * the same item: that line may change the row first. The rest is parsed, in
 * line order.
 */
export function buildEntries<R extends ParsedEntry = IntelRow>(lines: readonly HashedLine[], stored: ReadonlyMap<string, string>,
  parse: LineParser<R>, rejects: Reject[]): Entries<R> {
  const entries: (R | KeptLine)[] = [];
  const keptBytes = new Map<number, Uint8Array>();
  const seen = new Set<string>();
  for (const line of lines) {
    if (line.id !== undefined && !seen.has(line.id) && stored.get(line.id) === line.hash) {
      entries.push({ kept: true, itemId: line.id, lineHash: line.hash, lineNo: line.lineNo });
      keptBytes.set(line.lineNo, line.bytes);
      seen.add(line.id);
      continue;
    }
    const row = parse(line.lineNo, line.bytes, line.hash, rejects);
    if (row !== undefined) {
      entries.push(row);
      seen.add(row.itemId);
    }
    if (line.id !== undefined) seen.add(line.id);
  }
  return { entries, keptBytes };
}

/** Earlier lines changed these rows since the lookup: parses the stale kept lines in place. */
export function parseStale<R extends ParsedEntry = IntelRow>({ entries, keptBytes }: Entries<R>, stale: readonly KeptLine[], parse: LineParser<R>, rejects: Reject[]): void {
  const lineNos = new Set(stale.map((l) => l.lineNo));
  for (let i = entries.length - 1; i >= 0; i--) {
    const e = entries[i] as R | KeptLine;
    if (!isKept(e) || !lineNos.has(e.lineNo)) continue;
    const row = parse(e.lineNo, keptBytes.get(e.lineNo) as Uint8Array, e.lineHash, rejects);
    if (row === undefined) entries.splice(i, 1);
    else entries[i] = row;
  }
}
